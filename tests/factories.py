"""Hand-made analysis results shaped like the pipeline's, so renderers can be tested without running it.

Everything is derived from a fixed seed: the same arguments always give the same result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from reportgen.compare.mixshift import mix_behaviour
from reportgen.compare.stability import RetrainThresholds, retrain_advice
from reportgen.config import Config, effective_config
from reportgen.result import (
    AnalysisResult,
    BaselineSegment,
    CategoryShare,
    CleaningAction,
    ColumnInfo,
    Comparison,
    Count,
    CustomerTable,
    DataQuality,
    Evidence,
    FeatureStat,
    KCandidate,
    KSelection,
    MapPoint,
    Recommendation,
    ReportMeta,
    RunInfo,
    Segment,
    SegmentIdentity,
    SegmentMap,
    Trait,
)
from reportgen.result.changes import DriftReport, FeatureDrift, Migration, Move

NAMES = (
    "Affluent big spenders", "Deal-seeking families", "Lapsed low spenders", "Young web browsers",
    "Loyal regulars", "New high-potential", "Older store shoppers", "Occasional bargain hunters",
    "Catalogue enthusiasts", "Quiet savers",
)
COLORS = ("#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#eeca3b", "#9d755d", "#ff9da6",
          "#79706e")
# (feature, role, base mean, base std) — modelled on a retail marketing data set.
FEATURES = (
    ("Income", "income", 52_247.0, 21_412.0), ("MntTotal", "monetary", 605.8, 602.2),
    ("Recency", "recency", 49.1, 28.9), ("NumPurchases", "frequency", 14.9, 7.7),
    ("NumWebVisitsMonth", "web_visits", 5.3, 2.4), ("NumDealsPurchases", "deal_purchases", 2.3, 1.9),
    ("Age", "age", 45.2, 11.9), ("Tenure", "tenure", 512.0, 232.2),
)
CATEGORIES = {"Education": {"Graduation": 0.50, "PhD": 0.22, "Master": 0.17, "Basic": 0.11},
              "Marital_Status": {"Married": 0.39, "Together": 0.26, "Single": 0.21, "Divorced": 0.14}}
# (feature, kind, PSI, distance, small sample): four drift, one of them on distance alone, below the 50% share.
DRIFT = (("Income", "numeric", 0.021, 0.04, False), ("MntTotal", "numeric", 0.064, 0.13, False),
         ("Recency", "numeric", 0.312, 0.27, False), ("NumPurchases", "numeric", 0.048, 0.06, False),
         ("NumWebVisitsMonth", "numeric", 0.142, 0.11, False), ("NumDealsPurchases", "numeric", 0.033, 0.05, False),
         ("Age", "numeric", 0.004, 0.01, False), ("Tenure", "numeric", 0.052, 0.08, False),
         ("Education", "categorical", 0.018, 0.04, False), ("Marital_Status", "categorical", 0.118, 0.09, True))
RULES = (
    ("R-VIP-RETAIN", "Protect the most valuable customers", "Offer a loyalty tier with early access."),
    ("R-WINBACK", "Win back lapsed customers", "Send a time-limited comeback offer to customers inactive 60+ days."),
    ("R-DEAL-BUNDLE", "Bundle deals for price-sensitive buyers", "Promote multi-buy bundles, not deep discounts."),
    ("R-WEB-CONVERT", "Convert web browsing into purchases", "Retarget frequent visitors with basket reminders."),
    ("R-CROSS-SELL", "Cross-sell adjacent categories", "Recommend complementary products after each purchase."),
)


def _segment(sid: int, name: str, size: int, total: int, value_share: float | None,
             rng: np.random.Generator) -> Segment:
    zs = np.clip(rng.normal(0, 0.9, len(FEATURES)), -2.4, 2.4)
    stats = tuple(
        FeatureStat(feature, role, (mean := base + z * std), mean * 0.94, base, std, float(z))
        for (feature, role, base, std), z in zip(FEATURES, zs, strict=True)
    )
    categories = []
    for column, base_shares in CATEGORIES.items():
        shares = rng.dirichlet(np.array(list(base_shares.values())) * 12)
        for (level, base), share in zip(base_shares.items(), shares, strict=True):
            categories.append(CategoryShare(column, level, float(share), base, float(share / base)))
    ranked = sorted(stats, key=lambda s: -abs(s.z))[:3]
    traits = [Trait(s.feature, "numeric", "high" if s.z > 0 else "low", s.z,
                    f"{'Higher' if s.z > 0 else 'Lower'} {s.feature} than average ({s.z:+.1f}σ)") for s in ranked]
    top_cat = max(categories, key=lambda c: c.lift)
    traits.append(Trait(f"{top_cat.column}={top_cat.level}", "categorical", "high", top_cat.lift,
                        f"{top_cat.level} over-represented in {top_cat.column} ({top_cat.lift:.1f}× base)"))
    recommendations = []
    for rank, index in enumerate(rng.choice(len(RULES), size=2 + sid % 2, replace=False)):
        rule_id, title, action = RULES[index]
        evidence = tuple(Evidence(s.feature, round(s.z, 2), f"{s.feature} is {s.z:+.2f}σ from the base")
                         for s in ranked[:2])
        evidence += (Evidence("share", round(size / total, 3), f"{size / total:.1%} of customers"),)
        recommendations.append(Recommendation(
            rule_id, sid, name, title, action, f"Fires because {ranked[0].feature} stands out for this segment.",
            priority=rank + 1, audience=size, evidence=evidence, fallback=rule_id == "R-CROSS-SELL"))
    return Segment(
        sid, name, f"Named for {ranked[0].feature} ({ranked[0].z:+.1f}σ) and {ranked[1].feature} "
                   f"({ranked[1].z:+.1f}σ), its two most distinctive features.",
        COLORS[sid % len(COLORS)], size, size / total, value_share, float(rng.uniform(0.12, 0.41)), stats,
        tuple(categories), tuple(traits), tuple(recommendations))


def _k_selection(chosen: int) -> KSelection:
    ks = range(2, 11)
    candidates = tuple(
        KCandidate(k, 18_000 * k ** -0.75 + 400 * k, 0.34 - 0.02 * abs(k - chosen) - 0.004 * k,
                   900 - 40 * k + (60 if k == chosen else 0), 1.1 + 0.05 * abs(k - chosen), 0.21 / k ** 0.6, k <= 8)
        for k in ks)
    return KSelection(
        "auto", chosen, max(2, chosen - 1) if chosen > 2 else None,
        (("elbow", max(2, chosen - 1)), ("silhouette", chosen), ("calinski_harabasz", chosen),
         ("davies_bouldin", chosen)),
        f"K={chosen} wins three of four criteria (silhouette, Calinski-Harabasz, Davies-Bouldin); the elbow "
        f"suggests K={max(2, chosen - 1)}. Every segment holds at least 5% of customers.",
        candidates, 2_000, 2_000, "standard", None, None)


def _data_quality(rows_segmented: int) -> DataQuality:
    exclusions = (Count("duplicate customer id", 3, "kept the first row"), Count("missing customer id", 2),
                  Count("implausible value", 3, "Year_Birth before 1920"))
    rows_read = rows_segmented + sum(c.count for c in exclusions)
    columns = [ColumnInfo("ID", "id", "int64", 0, rows_read)]
    columns += [ColumnInfo(f, "numeric", "float64", 24 if f == "Income" else 0, 900, role) for f, role, *_ in FEATURES]
    columns += [ColumnInfo(c, "categorical", "object", 0, len(levels)) for c, levels in CATEGORIES.items()]
    columns += [ColumnInfo("Dt_Customer", "date", "datetime64[ns]", 0, 663, reason="used to derive Tenure"),
                ColumnInfo("Z_CostContact", "ignored", "int64", 0, 1, reason="constant (always 3)"),
                ColumnInfo("Z_Revenue", "ignored", "int64", 0, 1, reason="constant (always 11)"),
                ColumnInfo("Notes", "ignored", "object", 1_890, 310, reason="free text with 310 distinct values")]
    actions = (CleaningAction("Income", "impute median", 24, "median 51,382"),
               CleaningAction("MntTotal", "clip outliers (IQR × 3)", 7, "upper fence 2,525"),
               CleaningAction("Marital_Status", "merge categories", 7, "Alone, Absurd, YOLO → Single"),
               CleaningAction("Year_Birth", "out of range → drop", 3, "min 1920"))
    return DataQuality(rows_read, exclusions, rows_segmented, "ID", tuple(columns), tuple(f[0] for f in FEATURES),
                       tuple(CATEGORIES), (("Age", "2014 - Year_Birth"), ("MntTotal", "MntWines + MntMeat + MntFish"),
                                           ("Tenure", "days_since(Dt_Customer)")), actions)


def make_result(n_segments: int = 4, with_value: bool = True, *, names: Sequence[str] | None = None,
                total: int = 2_232, n_points: int = 400, logo: str | None = None) -> AnalysisResult:
    """A complete, realistic :class:`AnalysisResult` with ``n_segments`` segments.

    ``names`` overrides the generated segment names (e.g. to test escaping); ``total`` is the number of
    customers segmented and ``n_points`` the size of the sampled PCA map.
    """
    rng = np.random.default_rng(7 + n_segments)
    names = list(names or [NAMES[i % len(NAMES)] for i in range(n_segments)])
    weights = rng.dirichlet(np.full(n_segments, 6.0))
    sizes = np.floor(weights * total).astype(int)
    sizes[0] += total - sizes.sum()
    values = rng.dirichlet(np.full(n_segments, 3.0)) if with_value else [None] * n_segments
    segments = tuple(_segment(i, names[i], int(sizes[i]), total, None if v is None else float(v), rng)
                     for i, v in enumerate(values))
    recommendations = tuple(sorted((r for s in segments for r in s.recommendations),
                                   key=lambda r: (r.priority, -r.audience)))
    centres = rng.normal(0, 2.2, (n_segments, 2))
    seg_of_point = rng.choice(n_segments, size=n_points, p=sizes / total)
    xy = centres[seg_of_point] + rng.normal(0, 0.8, (n_points, 2))
    points = tuple(MapPoint(float(x), float(y), int(s)) for (x, y), s in zip(xy, seg_of_point, strict=True))
    biggest = max(segments, key=lambda s: s.size)
    highlights = [f"{n_segments} segments describe {total:,} customers; the largest, {biggest.name}, holds "
                  f"{biggest.share:.0%} of them."]
    if with_value:
        richest = max(segments, key=lambda s: s.value_share or 0)
        highlights.append(f"{richest.name} bring {richest.value_share:.0%} of total spend from "
                          f"{richest.share:.0%} of customers.")
    highlights += [f"The top priority action: {recommendations[0].title.lower()} ({recommendations[0].segment_name}).",
                   "Recency and deal purchases separate the segments most; age matters least."]
    config = effective_config(Config())
    config["data"]["path"] = "marketing_campaign.csv"
    config["report"].update(title="Customer segmentation brief", company="Northwind Retail", period="2026-Q3",
                            author="Customer Insights Team")
    return AnalysisResult(
        format_version=1,
        report=ReportMeta("Customer segmentation brief", "Northwind Retail", "2026-Q3", "Customer Insights Team",
                          "#1f5f8b", "A4", "$", logo),
        run=RunInfo("0.1.0", "marketing_campaign.csv", "9f2c" * 16, "customers", 42,
                    (("python", "3.11.7"), ("numpy", "1.26.4"), ("pandas", "2.2.2"), ("scikit-learn", "1.5.1")),
                    config),
        data=_data_quality(total),
        roles=tuple((role, feature) for feature, role, *_ in FEATURES),
        k_selection=_k_selection(n_segments),
        segments=segments,
        recommendations=recommendations,
        highlights=tuple(highlights),
        segment_map=SegmentMap(points, (0.34, 0.19), total),
        value_column="MntTotal" if with_value else None,
        rules_not_applicable=(("R-COMPLAINTS", "no column has the role 'complaints'"),
                              ("R-CATALOG", "no column has the role 'catalog_purchases'")),
    )


def make_customers(result: AnalysisResult) -> CustomerTable:
    """Per-customer rows consistent with ``result``: as many customers per segment as its size."""
    rng = np.random.default_rng(3)
    segment = np.repeat([s.id for s in result.segments], [s.size for s in result.segments])
    return CustomerTable(
        ids=np.arange(1, len(segment) + 1), segment=segment, distance=rng.gamma(2.0, 0.6, len(segment)),
        segment_names=tuple(s.name for s in result.segments), id_name="ID")


def _drift() -> DriftReport:
    features = tuple(FeatureDrift(
        name, kind, psi, distance, "wasserstein/σ" if kind == "numeric" else "jensen-shannon",
        "major" if psi >= 0.25 else "moderate" if psi >= 0.1 else "none", psi >= 0.1 or distance >= 0.1, small,
        "small sample: too few customers per bin for a reliable PSI" if small else "")
        for name, kind, psi, distance, small in DRIFT)
    drifted = tuple(f.feature for f in features if f.drifted)
    return DriftReport(features, drifted, len(drifted) / len(features), len(drifted) / len(features) >= 0.5,
                       tuple(f.feature for f in features), ())


def make_comparison(result: AnalysisResult, period: str = "2026-Q2") -> Comparison:
    """A comparison of ``result`` with a made-up previous run, consistent in every total.

    Each segment but the last continues the baseline segment of the same name (baseline ids run in reverse);
    the last segment is new, and the baseline's last segment, "Seasonal gift buyers", retired.
    """
    rng = np.random.default_rng(11)
    now = result.segments
    kept = len(now) - 1
    old_of = {s.id: kept - 1 - s.id for s in now[:kept]}
    old_names = {old_of[s.id]: s.name for s in now[:kept]} | {kept: "Seasonal gift buyers"}
    old_colors = {old_of[s.id]: s.color for s in now[:kept]} | {kept: "#bab0ac"}
    means = [max(next(st.mean for st in s.stats if st.role == "monetary"), 40.0) for s in now]
    grid = np.zeros((kept + 1, len(now)), dtype=int)  # baseline id × this run's id: customers in both runs
    for j, s in enumerate(now):
        present = round(s.size * (0.9 if j < kept else 0.6))
        spread = rng.dirichlet(np.ones(kept + 1)) * 0.2
        spread[old_of.get(j, kept)] += 0.8
        grid[:, j] = np.floor(spread * present)
    lost = np.round(grid.sum(axis=1) * rng.uniform(0.05, 0.12, kept + 1)).astype(int)
    old_sizes = grid.sum(axis=1) + lost
    old_total = int(old_sizes.sum())
    old_means = [means[next(n for n, o in old_of.items() if o == b)] * 0.97 if b < kept else 410.0
                 for b in range(kept + 1)]
    cells = tuple((b, j, int(grid[b, j]), float(grid[b, j] * means[j])) for b in range(kept + 1)
                  for j in range(len(now)))
    moves = sorted((c for c in cells if c[2] and old_of.get(c[1]) != c[0]), key=lambda c: -c[2])
    added = [s.size - int(grid[:, j].sum()) for j, s in enumerate(now)]
    migration = Migration(
        cells, tuple(enumerate(map(int, grid.sum(axis=1)))), tuple(enumerate(map(int, grid.sum(axis=0)))),
        tuple(enumerate(map(int, lost))), tuple((j, a, a * means[j]) for j, a in enumerate(added)),
        both=int(grid.sum()), added=sum(added), lost=int(lost.sum()),
        stayed=sum(c[2] for c in cells if old_of.get(c[1]) == c[0]),
        largest_moves=tuple(Move(o, old_names[o], n, now[n].name, count, value) for o, n, count, value in moves[:3]))
    baseline = tuple(BaselineSegment(b, old_names[b], old_colors[b], int(old_sizes[b]), float(old_sizes[b] / old_total),
                                     None, float(old_means[b])) for b in range(kept + 1))
    mix = mix_behaviour([(f"b{b.id}", b.share, b.mean_value) for b in baseline],
                        [(f"b{old_of[s.id]}" if s.id in old_of else f"n{s.id}", s.share, m)
                         for s, m in zip(now, means, strict=True)])
    identities = (*(SegmentIdentity(s.id, "kept", old_of[s.id], s.name, round(0.12 + 0.07 * s.id, 3))
                    for s in now[:kept]), SegmentIdentity(now[-1].id, "new", None, None, None))
    drift = _drift()
    advice = retrain_advice(0.86, drift.dataset_drift, drift.share_drifted, 2, RetrainThresholds.from_config())
    sentences = (f"Since {period}: {migration.added:,} customers joined, {migration.lost:,} left and "
                 f"{migration.both:,} are in both runs; {migration.stayed:,} of those stayed in the same segment.",
                 f"Largest move: {moves[0][2]:,} customers from {old_names[moves[0][0]]} to {now[moves[0][1]].name}.",
                 f"New segment: {now[-1].name} ({now[-1].share:.0%} of customers).",
                 f"No data-set drift: {len(drift.drifted_features)} of {len(drift.features)} features moved "
                 f"({', '.join(drift.drifted_features[:3])}).",
                 f"Advice: {advice.action} the model — {advice.reasons[0].rstrip('.')}.")
    return Comparison(period, f"report-{period}", "refit", baseline, identities, (kept,), old_total, migration,
                      drift, mix, 0.86, advice, sentences)
