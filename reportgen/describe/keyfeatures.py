"""The few numeric features that describe each customer row: mapped roles first, then the segments' strongest traits.

The per-customer table (the HTML explorer, ``customers.csv``) carries these columns in business units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from reportgen.result import Segment

MAX_FEATURES = 6
KEY_ROLES = ("monetary", "frequency", "recency", "income", "age")  # shown first when mapped


def key_features(frame: pd.DataFrame, roles: dict[str, str], segments: Sequence[Segment],
                 limit: int = MAX_FEATURES) -> dict[str, np.ndarray]:
    """A few numeric features worth showing per customer, in business units.

    Parameters
    ----------
    frame
        The cleaned features, one row per customer (original units).
    roles
        Business role → column (``monetary``, ``recency``…).
    segments
        The named segments; the numeric features of their strongest traits follow the role columns.
    limit
        Most features kept.

    Returns
    -------
    dict
        Column name → float array aligned with ``frame``'s rows.
    """
    traits = sorted((t for s in segments for t in s.traits if t.kind == "numeric"), key=lambda t: -abs(t.score))
    wanted = [roles[r] for r in KEY_ROLES if r in roles] + [t.feature for t in traits]
    numeric = [c for c in dict.fromkeys(wanted) if c in frame.columns and is_numeric_dtype(frame[c])]
    return {c: frame[c].to_numpy(dtype=float) for c in numeric[:limit]}
