"""atheris fuzz target: arbitrary bytes as an export file, loaded and cleaned.

The first byte picks the file extension, the rest is the file. Loading and cleaning may
refuse the file with :class:`~adoption.errors.InputError`; any other exception is a
crash (atheris prints it and exits non-zero).

Run by ``tests/test_hardening_fuzz.py`` for a bounded time::

    python tests/fuzz/fuzz_loader.py SEED_DIR -max_total_time=20 -seed=1

or by hand, longer, with the corpus as seeds (see ``make_seeds``).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["adoption"]):
    from adoption.clean import clean
    from adoption.errors import InputError
    from adoption.load import load_responses
    from adoption.spec import load_spec

EXTS = (".csv", ".xlsx", ".sav", ".tsv", ".dta", ".por", ".zsav")
SPEC = load_spec(Path(__file__).resolve().parent.parent / "bad_inputs" / "specs" / "mini.yaml")
TMP = Path(tempfile.mkdtemp(prefix="adoption-fuzz-"))


def make_seeds(files: Path, out: Path) -> None:
    """One seed per corpus file: its extension's index byte, then its bytes."""
    out.mkdir(parents=True, exist_ok=True)
    for f in sorted(files.iterdir()):
        ext = f.suffix.lower()
        if ext in EXTS:
            (out / f.name).write_bytes(bytes([EXTS.index(ext)]) + f.read_bytes())


def target(data: bytes) -> None:
    if not data:
        return
    path = TMP / f"input{EXTS[data[0] % len(EXTS)]}"
    path.write_bytes(data[1:])
    try:
        clean(load_responses(path, SPEC), SPEC)
    except InputError as exc:
        if not str(exc).strip() or len(str(exc).strip().splitlines()) > 2:
            raise AssertionError(f"bad message: {exc!r}") from None


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--make-seeds":
        make_seeds(Path(sys.argv[2]), Path(sys.argv[3]))
        sys.exit(0)
    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
