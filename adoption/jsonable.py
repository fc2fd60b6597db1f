"""Plain JSON values from numpy and pandas ones (NaN and infinities become null).

Shared by every stage that offers a ``to_dict()`` and by the run-directory writer.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd


def to_jsonable(x: Any) -> Any:
    """Plain JSON types from numpy/pandas values; NaN and infinities become None."""
    if isinstance(x, Mapping):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if isinstance(x, pd.DataFrame):
        return [to_jsonable(r) for r in x.to_dict(orient="records")]
    if isinstance(x, np.ndarray):
        return to_jsonable(x.tolist())
    if isinstance(x, (np.bool_, bool)):
        return bool(x)
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return None if not math.isfinite(float(x)) else float(x)
    if x is pd.NA or x is pd.NaT or x is None:
        return None
    if isinstance(x, Path):
        return str(x)
    return x
