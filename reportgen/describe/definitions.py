"""One definition per reported figure: what the appendix states and what the code computes.

The texts here are the single place the report's figures are defined; the appendix lists them. Each names the
values it is computed on, so a reader can recompute any figure from the input and ``segments.csv``.
"""

from __future__ import annotations

MIN_OVERLAP = 0.5  # a segment holding this share of an old segment's continuing customers continues it
DOMINANCE = 0.10  # a mean that values beyond the outlier fences move by this much (relative) is marked

OBSERVED = ("the values as the input has them: cleaning (imputed missing values, outliers clipped at the IQR "
            "fences, merged categories, log scaling) shapes only what the model sees")

FIGURES: tuple[tuple[str, str], ...] = (
    ("Segment mean, median", f"Over the segment's customers that have a value, on {OBSERVED}; customers without a "
                             "value are left out and counted beside the table. A mean that values beyond the "
                             f"outlier fence move by {DOMINANCE:.0%} or more is marked, with the capped mean and "
                             "the median."),
    ("Base mean", "The same, over every segmented customer."),
    ("z (σ)", "How far the segment lies from the base in what the model saw: (segment mean − base mean) / base "
              "standard deviation, on the cleaned values (imputed, capped), so a few extreme customers cannot "
              "swamp it. It ranks traits and drives names and rules; every figure in units is observed."),
    ("Share of customers", "Segment customers / customers segmented."),
    ("Value share", "The segment's sum of the value column (e.g. net revenue) / the sum over all segmented "
                    "customers, on observed values; customers without a value count in neither sum."),
    ("Category share", "Share of the segment's customers with a value in each level as written in the input "
                       "(unmerged); customers without a value are left out."),
    ("Net revenue (logs)", "Purchases minus returns in the window, over the customers kept (net value above zero)."),
    ("Average order value (logs)", "Net revenue / purchase invoices, for the whole base and per customer alike."),
    ("Drift (PSI, Wasserstein/σ, Jensen–Shannon)",
     "This month's observed values against the baseline's, both clipped at the baseline's outlier fences and "
     "binned on the baseline's decile edges (stored in reference.json); the share of customers without a value is "
     "compared apart. Wasserstein: mean gap between the two quantile functions at 200 levels, in baseline σ."),
    ("Segment identity", f"A segment continues last run's when it holds {MIN_OVERLAP:.0%} or more of that "
                         "segment's customers present in both runs, or when their centres lie within the "
                         "matching distance."),
)
