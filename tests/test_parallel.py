"""adoption.parallel: the same results on every backend, clear errors for a bad scheduler.

The dask tests start an in-process ``distributed.LocalCluster`` (2 workers, 1 thread
each, ``processes=False``: about a second to start, and the tasks still go through the
scheduler, serialisation and ``Client.map`` as on a real cluster).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from adoption import parallel
from adoption.errors import InputError
from adoption.parallel import backend_name, resolve_scheduler, run_tasks, task_seeds


def _draw(seed) -> np.ndarray:
    """A seeded task: five normal draws from the task's own seed."""
    return np.random.default_rng(seed).normal(size=5)


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as c:
        yield c.scheduler_address


def test_task_seeds_are_stable_when_tasks_are_added():
    a = [np.random.default_rng(s).integers(1 << 30) for s in task_seeds(7, 3)]
    b = [np.random.default_rng(s).integers(1 << 30) for s in task_seeds(7, 10)]
    assert a == b[:3]
    assert len(set(b)) == 10


@pytest.mark.parametrize("n_jobs,backend", [(1, "loky"), (2, "loky"), (2, "threading"),
                                            (3, "sequential")])
def test_local_backends_equal_the_serial_loop(n_jobs, backend):
    seeds = task_seeds(11, 9)
    serial = [_draw(s) for s in seeds]
    got = run_tasks(_draw, seeds, n_jobs=n_jobs, backend=backend)
    assert len(got) == 9
    for x, y in zip(serial, got):
        assert_array_equal(x, y)   # same seed, same numbers: bitwise


def test_dask_cluster_equals_the_serial_loop(cluster):
    seeds = task_seeds(11, 9)
    got = run_tasks(_draw, seeds, scheduler=cluster)
    for x, s in zip(got, seeds):
        assert_array_equal(x, _draw(s))


def test_environment_variable_selects_the_cluster(cluster, monkeypatch):
    monkeypatch.setenv(parallel.SCHEDULER_ENV, cluster)
    assert resolve_scheduler(None) == cluster
    assert backend_name() == f"dask {cluster}"
    assert resolve_scheduler("local") is None
    assert_array_equal(run_tasks(_draw, [3])[0], _draw(3))


def test_unreachable_scheduler_is_an_input_error(monkeypatch):
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT", 1)
    with pytest.raises(InputError) as err:
        run_tasks(_draw, [1, 2], scheduler="tcp://127.0.0.1:9")
    msg = str(err.value)
    assert "tcp://127.0.0.1:9" in msg and "dask scheduler" in msg and "--scheduler" in msg
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_malformed_scheduler_address():
    with pytest.raises(InputError, match="tcp://host:8786"):
        resolve_scheduler("localhost:8786")


def test_task_errors_propagate():
    def boom(x):
        raise ValueError(f"task {x}")

    with pytest.raises(ValueError, match="task 1"):
        run_tasks(boom, [1], n_jobs=1)


def test_bootstrap_refit_on_a_cluster_equals_serial(cluster):
    """The refit fallback of the structural bootstrap through run_tasks."""
    import pandas as pd

    from adoption.structural.refit import OLSRefit, bootstrap_refit
    from adoption.structural.paths import parse_structural

    rng = np.random.default_rng(3)
    x = rng.normal(size=150)
    m = 0.5 * x + rng.normal(size=150)
    y = 0.4 * m + 0.1 * x + rng.normal(size=150)
    data = pd.DataFrame({"X": x, "M": m, "Y": y})
    model = parse_structural("M ~ X\nY ~ M + X")
    serial = bootstrap_refit(data, model, OLSRefit(model), B=60, seed=4, n_jobs=1,
                             backend="sequential")
    dask = bootstrap_refit(data, model, OLSRefit(model), B=60, seed=4, scheduler=cluster)
    pd.testing.assert_frame_equal(serial.draws, dask.draws, check_exact=True)
    pd.testing.assert_frame_equal(serial.table, dask.table, check_exact=True)


def _needs_missing_module(x):
    import adoption_module_that_is_not_installed  # noqa: F401


def test_workers_that_cannot_import_are_an_input_error(cluster):
    with pytest.raises(InputError, match="cannot import"):
        run_tasks(_needs_missing_module, [1], scheduler=cluster)
