"""Whether last month's segmentation still holds, or the model should be fitted afresh.

Three signals each suffice for a retrain: last month's model and a fresh fit on this month's data disagree
(adjusted Rand index below the threshold), the features drifted as a data set, or segments appeared or retired.
Every reason is a sentence that names the threshold and the numbers, so the advice can be quoted as it is.
"""

from __future__ import annotations

import math

from reportgen.result.changes import RetrainAdvice, RetrainThresholds


def _segments(count: int) -> str:
    return f"{count} segment{'s' if count != 1 else ''}"


def retrain_advice(ari: float, dataset_drift: bool, share_drifted: float, unmatched: int,
                   thresholds: RetrainThresholds) -> RetrainAdvice:
    """Advise keeping or retraining the segmentation model.

    Parameters
    ----------
    ari
        Adjusted Rand index between last month's model and a fresh fit, both labelling this month's customers;
        NaN when it could not be measured (it then neither triggers nor blocks a retrain).
    dataset_drift
        Whether the feature drift check found data-set drift.
    share_drifted
        The share of compared features that drifted, quoted in the reason.
    unmatched
        Segments that appeared or retired in the segment matching (new plus retired).
    thresholds
        The ARI floor and the number of unmatched segments tolerated.

    Returns
    -------
    RetrainAdvice
        ``retrain`` with one sentence per threshold crossed, or ``keep`` with one sentence saying none was.

    Raises
    ------
    ValueError
        If ``ari`` lies outside [-1, 1], ``share_drifted`` outside [0, 1] or ``unmatched`` is negative.
    """
    if not (math.isnan(ari) or -1 <= ari <= 1):
        raise ValueError(f"ARI must be between -1 and 1, not {ari}")
    if not 0 <= share_drifted <= 1 or unmatched < 0:
        raise ValueError(f"share drifted must be in [0, 1] and unmatched >= 0, not {share_drifted}, {unmatched}")
    measured = not math.isnan(ari)
    reasons = []
    if measured and ari < thresholds.min_ari:
        reasons.append(f"Last month's segments and a fresh fit on this month's data agree at ARI {ari:.3f}, "
                       f"below the {thresholds.min_ari:.2f} threshold.")
    if dataset_drift:
        reasons.append(f"The data set drifted: {share_drifted:.0%} of the compared features moved, "
                       f"reaching the share that marks data-set drift.")
    if unmatched > thresholds.max_unmatched:
        reasons.append(f"{_segments(unmatched)} appeared or retired since last month, more than the "
                       f"{thresholds.max_unmatched} tolerated.")
    if reasons:
        return RetrainAdvice("retrain", tuple(reasons), ari)
    agreement = (f"ARI {ari:.3f} is at or above {thresholds.min_ari:.2f}" if measured
                 else "ARI was not measured")
    matching = ("every segment matched last month's" if not unmatched
                else f"{_segments(unmatched)} unmatched, within the {thresholds.max_unmatched} tolerated")
    return RetrainAdvice("keep", (f"No retraining threshold crossed: {agreement}, no data-set drift "
                                  f"({share_drifted:.0%} of features drifted), and {matching}.",), ari)
