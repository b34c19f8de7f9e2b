"""RFM beside the segments: the report's RFM summary and the customers.csv columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from reportgen.describe.rfm import RfmGroups, rfm_crosstab
from reportgen.result import Count, RfmSummary

SCORE_LETTERS = {"r_score": "r", "f_score": "f", "m_score": "m"}


def aligned_scores(scores: pd.DataFrame, ids: np.ndarray) -> pd.DataFrame:
    """The scores of the segmented customers, in their order (cleaning may have set some customers aside)."""
    return scores.loc[pd.Index(ids.astype(str))].reset_index(drop=True)


def rfm_summary(scores: pd.DataFrame, labels: np.ndarray, groups: RfmGroups) -> RfmSummary:
    """Customers per group, the segment × group cross-tab and the distribution of each score."""
    counts = scores["rfm_group"].value_counts()
    per_score = tuple((letter, int(score), int((scores[column] == score).sum()))
                      for column, letter in SCORE_LETTERS.items() for score in range(1, 6))
    return RfmSummary(groups=tuple(Count(name, int(counts.get(name, 0))) for name in groups.names),
                      crosstab=tuple(rfm_crosstab(scores, labels, groups)), scores=per_score)


def customer_columns(features: pd.DataFrame, id_column: str, scores: pd.DataFrame,
                     ids: np.ndarray) -> dict[str, np.ndarray]:
    """Every aggregated feature and the R/F/M scores and group of each segmented customer, for customers.csv."""
    order = pd.Index(ids.astype(str))
    table = features.set_index(features[id_column].astype(str)).drop(columns=[id_column]).loc[order]
    table = table.join(scores.loc[order])
    return {column: table[column].to_numpy() for column in table.columns}
