"""One way to run independent, seeded tasks: on this machine's cores or on a dask cluster.

Bootstrap refits, alternative models, group models and power replicates are all "call
``fn(task)`` for every task and keep the results in task order". :func:`run_tasks` does
that on

* the local cores, with joblib's ``loky`` process pool (``n_jobs`` workers; ``n_jobs=1``
  runs a plain loop in this process, the reference for every other backend);
* a running dask.distributed cluster, when ``scheduler="tcp://host:8786"`` is given or
  the environment variable :data:`SCHEDULER_ENV` (``ADOPTION_DASK_SCHEDULER``) names one.

Reproducibility is the caller's contract, and this module's reason to exist: randomness
is carried by the task, never by the worker. Draw a child seed per task with
:func:`task_seeds` (``numpy.random.SeedSequence(seed).spawn(n)``) and build every
generator inside ``fn`` from it; then the results are identical for a given seed
whatever the backend and the number of workers. Split work into tasks in a way that does
not depend on ``n_jobs`` either (a fixed block size), or batched computations may round
differently.

dask workers must be able to import ``adoption`` (the same version as the client):
``fn`` is pickled by reference when it is a module-level function.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import numpy as np

from adoption.errors import InputError

__all__ = ["SCHEDULER_ENV", "BACKENDS", "task_seeds", "resolve_scheduler", "run_tasks",
           "backend_name", "blas_one_thread"]

T = TypeVar("T")

#: Environment variable naming a dask scheduler (``tcp://host:8786``) to use by default.
SCHEDULER_ENV = "ADOPTION_DASK_SCHEDULER"

#: Local backends accepted by :func:`run_tasks` (joblib's names).
BACKENDS: tuple[str, ...] = ("loky", "threading", "sequential")

#: Seconds to wait for a dask scheduler before giving up.
CONNECT_TIMEOUT = 10


def blas_one_thread():
    """A context with single-threaded BLAS (threadpoolctl), for this process's own
    matrix products: the many thin products of a fit or a screening rule (p x p, N x p)
    are slower with OpenBLAS threads (10x on a busy 2-core machine: a 37-item SEM took
    6.7 s instead of 0.2 s); the numbers do not change. threadpoolctl's controller is
    built once (scanning the loaded libraries costs far more than switching). No-op
    without threadpoolctl."""
    global _CONTROLLER
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


_CONTROLLER = None


def task_seeds(seed: int | Sequence[int] | None, n: int) -> list[np.random.SeedSequence]:
    """Independent child seeds, one per task.

    Parameters
    ----------
    seed : int, sequence of int or None
        Entropy of the root ``numpy.random.SeedSequence`` (a sequence such as
        ``[seed, 200]`` gives a separate stream per sample size).
    n : int
        Number of tasks.

    Returns
    -------
    list of numpy.random.SeedSequence
        ``SeedSequence(seed).spawn(n)``: child ``i`` is the same whatever ``n`` is, as
        long as ``n > i``, so adding tasks leaves the earlier ones unchanged. Build a
        generator inside the task with ``numpy.random.default_rng(child)``.
    """
    return np.random.SeedSequence(seed).spawn(n)


def resolve_scheduler(scheduler: str | None) -> str | None:
    """The dask scheduler address to use: ``scheduler``, else ``$ADOPTION_DASK_SCHEDULER``,
    else None (local cores). ``"local"`` forces the local cores even when the variable
    is set.

    Raises
    ------
    InputError
        An address that is not ``tcp://host:port`` (or ``tls://``, ``inproc://``).
    """
    if scheduler is None:
        scheduler = os.environ.get(SCHEDULER_ENV) or None
        where = f"${SCHEDULER_ENV}"
    else:
        where = "--scheduler"
    if scheduler is None or scheduler.strip().lower() in ("", "local"):
        return None
    address = scheduler.strip()
    if not address.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise InputError(f"{where} {address!r}: give the dask scheduler's address as "
                         "tcp://host:8786 (as printed by `dask scheduler`).")
    return address


def backend_name(scheduler: str | None = None, n_jobs: int = 2, backend: str = "loky") -> str:
    """How :func:`run_tasks` will run with these arguments, for run logs
    (``"dask tcp://host:8786"``, ``"loky x2"``, ``"sequential"``)."""
    address = resolve_scheduler(scheduler)
    if address:
        return f"dask {address}"
    if n_jobs == 1 or backend == "sequential":
        return "sequential"
    return f"{backend} x{n_jobs}"


def _connect(address: str):
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - depends on the installation
        raise InputError(f"--scheduler {address}: dask.distributed is not installed here; "
                         "install it with `pip install \"dask[distributed]\"` or leave out "
                         "--scheduler to use this machine's cores.") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the dask scheduler at {address} ({type(exc).__name__}"
                         f" after {CONNECT_TIMEOUT} s). Start it with `dask scheduler` and "
                         f"workers with `dask worker {address}`, check the host and port, "
                         f"or leave out --scheduler (and unset ${SCHEDULER_ENV}) to run on "
                         "this machine's cores.") from None


def run_tasks(fn: Callable[[Any], T], tasks: Iterable[Any], *, scheduler: str | None = None,
              n_jobs: int = 2, backend: str = "loky") -> list[T]:
    """``[fn(task) for task in tasks]``, in parallel, results in task order.

    Parameters
    ----------
    fn : callable
        A picklable function of one task (a module-level function or a frozen dataclass
        with ``__call__``; loky also takes closures). Exceptions it raises propagate to
        the caller unchanged.
    tasks : iterable
        The tasks; each carries everything ``fn`` needs, its seed included.
    scheduler : str, optional
        ``"tcp://host:8786"``: run on that dask.distributed cluster (``fn`` and the tasks
        are sent to its workers). Default: ``$ADOPTION_DASK_SCHEDULER`` if set, else
        the local cores; ``"local"`` forces the local cores.
    n_jobs : int
        Local workers (ignored with a scheduler). 1 runs a plain loop in this process.
    backend : {"loky", "threading", "sequential"}
        joblib backend for the local cores.

    Returns
    -------
    list
        ``fn(task)`` for each task, in the order of ``tasks``.

    Raises
    ------
    InputError
        The scheduler cannot be reached (the message names the address and what to do),
        its address is malformed, or its workers cannot import ``fn``'s module.

    Examples
    --------
    >>> import numpy as np
    >>> def draw(seed):
    ...     return float(np.random.default_rng(seed).normal())
    >>> seeds = task_seeds(1, 4)
    >>> run_tasks(draw, seeds, n_jobs=1) == run_tasks(draw, seeds, n_jobs=2)
    True
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be at least 1, not {n_jobs}")
    tasks = list(tasks)
    address = resolve_scheduler(scheduler)
    if address is not None:
        client = _connect(address)
        try:
            futures = client.map(fn, tasks, pure=False)
            return client.gather(futures)
        except ImportError as exc:
            raise InputError(f"the dask workers at {address} cannot import what the tasks "
                             f"need ({exc}). Install the same version of adoption (and its "
                             "dependencies) in the workers' environment, or leave out "
                             "--scheduler to run on this machine's cores.") from None
        finally:
            client.close()
    if n_jobs == 1 or backend == "sequential" or len(tasks) <= 1:
        return [fn(t) for t in tasks]
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=min(n_jobs, len(tasks)), backend=backend)(
        delayed(fn)(t) for t in tasks))
