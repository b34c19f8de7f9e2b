"""The computing half of a run on Spark, returning the local engine's ``Analysis``.

Where each part runs:

- Spark: reading the input, aggregating a transaction log, every cleaning statistic and row change, scaling
  statistics and levels, the Lloyd iterations of the chosen K over every customer, the assignment, profiles,
  value shares, audiences and their value, and writing the segments (Parquet, partitioned by period).
- The driver (samples and aggregates only): the cleaning plan inferred on ``spark.plan_rows`` sampled rows, the
  K search on ``segmentation.search_sample`` customers (scikit-learn, as the local engine), silhouettes on
  ``segmentation.sample_size``, the map, and the comparison with a baseline, RFM scores, the drift reference and the
  HTML explorer on ``spark.compare_rows`` customers.

Samples are the rows at the positions :func:`reportgen.model.kselect.sample_rows` draws, in input order, so a table
smaller than a sample is seen whole and gives the local engine's numbers.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from reportgen import __version__
from reportgen.compare.baseline import load_baseline
from reportgen.compare.drift import reference_stats
from reportgen.compare.monthly import check_compatible, compare, identities
from reportgen.config import Config, effective_config
from reportgen.describe.highlights import highlights
from reportgen.describe.plain import plain_traits
from reportgen.describe.profile import MAP_POINTS, segment_map, segment_silhouettes
from reportgen.errors import ConfigError, DataError, ReportgenError
from reportgen.inputs.files import LoadedTable
from reportgen.model.kselect import sample_rows
from reportgen.model.modelfile import model_digest
from reportgen.prepare.currency import settle_currency
from reportgen.prepare.features import prepare
from reportgen.result import FORMAT_VERSION, AnalysisResult, CustomerTable, ReportMeta, RunInfo
from reportgen.result.provenance import library_versions
from reportgen.spark import model as sm
from reportgen.spark.audiences import audience_sizes
from reportgen.spark.customers import Customers
from reportgen.spark.prepare import (
    ID,
    MID,
    SparkPrepared,
    category_name,
    numeric_name,
    observed_category_name,
    observed_name,
    prepare_spark,
)
from reportgen.spark.read import SparkInput, read_input, sample_frame
from reportgen.spark.session import SparkError, start
from reportgen.spark.write import segment_writer

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

Progress = Callable[[str], None]


class _Stages:
    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.timings = progress, {}

    def __call__(self, name: str) -> _Stages:
        self.name = name
        return self

    def __enter__(self) -> None:
        if self.progress:
            self.progress(self.name)
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timings[self.name] = self.timings.get(self.name, 0.0) + time.perf_counter() - self.start


def _customers(session: Any, config: Config) -> Customers:
    from reportgen.spark.logs import aggregate_spark, is_log

    source = read_input(session, config, typed=False)
    if is_log(source, config):
        return aggregate_spark(session, source, config)
    if source.kind == "csv":
        source = read_input(session, config, typed=True)
    rows = source.frame.count()
    return Customers(source.frame, rows, config, source.name, source.sha256, "customers")


def _log_features(configured: list[str] | None, numeric: tuple[str, ...], default: tuple[str, ...]) -> tuple[str, ...]:
    if configured is None:
        return tuple(c for c in default if c in numeric)
    unknown = [c for c in configured if c not in numeric]
    if unknown:
        raise ConfigError([f"Config value 'segmentation.log_features': {c!r} is not a numeric feature "
                           f"(numeric features: {', '.join(numeric)})" for c in unknown])
    return tuple(configured)


def _sample(frame: DataFrame, n: int, size: int, seed: int, columns: list[str]) -> pd.DataFrame:
    return sm.take_rows(frame, sample_rows(n, size, seed), columns)


def _named(sample: pd.DataFrame, numeric: tuple[str, ...], categorical: tuple[str, ...],
           observed: bool) -> pd.DataFrame:
    """A pulled sample's model (or observed) columns under their feature names, as the local frames hold them."""
    num = observed_name if observed else numeric_name
    cat = observed_category_name if observed else category_name
    frame = pd.DataFrame({c: sample[num(j)].to_numpy(dtype=np.float64, na_value=np.nan) for j, c in enumerate(numeric)})
    for j, column in enumerate(categorical):
        frame[column] = sample[cat(j)].astype("string").reset_index(drop=True)
    return frame


def analyse_spark(config: Config, progress: Progress | None, name_and_recommend: Callable[..., tuple],
                  analysis: Callable[..., Any]) -> Any:
    """:func:`compute` with a failure inside Spark (a lost executor, a heap too small) as one line."""
    try:
        return compute(config, progress, name_and_recommend, analysis)
    except ReportgenError:
        raise
    except Exception as exc:
        from py4j.protocol import Py4JError
        from pyspark.errors import PySparkException

        if not isinstance(exc, (PySparkException, Py4JError, ConnectionError)):
            raise
        reason = " ".join(str(exc).split())[:300]
        raise SparkError(f"Spark failed during the run ({reason})") from None


def compute(config: Config, progress: Progress | None, name_and_recommend: Callable[..., tuple],
            analysis: Callable[..., Any]) -> Any:
    """The computing half of a run on Spark (``engine = "spark"``): the same result as the local ``analyse``.

    The pipeline hands in its naming and recommending step (``name_and_recommend``) and its result record
    (``Analysis``), so segments are named by the one implementation and this package never imports the pipeline.

    Raises
    ------
    reportgen.spark.session.SparkError
        Spark missing, Java missing, the master unreachable.
    DataError, ConfigError
        A missing path, columns the config names that the input lacks, nothing left after cleaning.
    """
    from reportgen.userfiles import check_user_files

    stages = _Stages(progress)
    check_user_files(config)
    if config.output.database:
        raise ConfigError("Config value 'output.database': the Spark engine writes the segments with Spark "
                          "(spark.segments), not to a database, but received a database URL")
    with stages("spark"):
        session = start(config.spark)
    with stages("load"):
        customers = _customers(session, config)
    config, seg_cfg = customers.config, customers.config.segmentation
    with stages("clean"):
        sample = sample_frame(customers.frame, customers.rows, config.spark.plan_rows, seg_cfg.seed)
        table = LoadedTable(sample, Path(customers.name), customers.sha256, len(sample), customers.notes)
        plan = prepare(table, config)  # what is inferred from values, on the sample
        prepared: SparkPrepared = prepare_spark(customers.frame, plan, sample, config, customers.name, customers.rows)
        config, currency_source = settle_currency(config, prepared.plan.quality)
    plan = prepared.plan
    numeric, categorical, n = plan.numeric, plan.categorical, prepared.rows
    baseline = None
    if config.comparison.baseline:
        with stages("baseline"):
            if config.comparison.reuse_model:
                raise ConfigError("Config value 'comparison.reuse_model': not available with engine = 'spark' yet "
                                  "(compare by refitting) but received True")
            baseline = load_baseline(config.resolve(config.comparison.baseline))
            check_compatible(baseline, numeric, categorical)
    with stages("features"):
        frame = prepared.frame
        if any(c.label == "duplicate customer id" for c in plan.quality.exclusions):
            frame = frame.orderBy(MID)  # the first row of each id kept, in input order again
        frame = sm.numbered(frame, n)
        log_features = _log_features(seg_cfg.log_features, numeric, customers.log_scaled)
        spark_model = sm.fit_scaling(frame, numeric, categorical, seg_cfg, log_features, n)
        encoded = frame.withColumns({sm.space_name(i): c for i, c in enumerate(spark_model.encoded())})
        width = len(spark_model.encoded())
        search = _sample(encoded, n, seg_cfg.search_sample, seg_cfg.seed, [sm.space_name(i) for i in range(width)])
        matrix = search.to_numpy(dtype=np.float64)
        spark_model, pca = sm.fit_pca(spark_model, matrix, seg_cfg)
        if pca is not None:
            matrix = pca.transform(matrix)
        space = sm.with_space(frame, spark_model)
        space_columns = [sm.space_name(i) for i in range(spark_model.width)]
    with stages("k search"):
        from reportgen.model.kselect import select_k

        selection, models = select_k(matrix, seg_cfg, n, pca.n_components_ if pca else None,
                                     float(pca.explained_variance_ratio_.sum()) if pca else None)
        selection = dataclasses.replace(selection, log_features=log_features)
    with stages("fit"):
        centers = models[selection.chosen_k].cluster_centers_
        if len(matrix) < n:
            # Refined on a larger sample first (every customer up to spark.compare_rows, where this is the local
            # engine's fit exactly), so the passes over every customer in Spark start close to where they end.
            refine = _sample(space, n, config.spark.compare_rows, seg_cfg.seed, space_columns)
            from reportgen.model.fit import kmeans

            centers = kmeans(selection.chosen_k, seg_cfg, init=centers).fit(
                refine.to_numpy(dtype=np.float64)).cluster_centers_
            if len(refine) < n:
                centers = sm.lloyd(space, centers, config.spark.max_iter, 1e-4)[0]
        centroids, _, _ = sm.ordered(space, centers)
        # Not cached: the nearest centre is a few arithmetic operations per customer, cheaper than a second copy
        # of every customer in the cache.
        assigned = sm.assigned(space, centroids)
        spark_model = dataclasses.replace(spark_model, centroids=centroids)
    k = len(centroids)
    with stages("profile"):
        rows = _sample(assigned, n, seg_cfg.sample_size, seg_cfg.seed, [*space_columns, sm.LABEL])
        silhouettes = segment_silhouettes(rows[space_columns].to_numpy(dtype=np.float64),
                                          rows[sm.LABEL].to_numpy(dtype=np.int64), k, np.arange(len(rows)))
        profiles = _profiles(assigned, k, plan, silhouettes, n, config)
        points = _sample(assigned, n, MAP_POINTS, seg_cfg.seed, [*space_columns, sm.LABEL])
        projected = segment_map(points[space_columns].to_numpy(dtype=np.float64),
                                points[sm.LABEL].to_numpy(dtype=np.int64), seg_cfg.seed)
        projected = dataclasses.replace(projected, total_customers=n)
        columns = [ID, sm.LABEL, sm.DISTANCE, *(numeric_name(j) for j in range(len(numeric))),
                   *(category_name(j) for j in range(len(categorical))),
                   *(observed_name(j) for j in range(len(numeric))),
                   *(observed_category_name(j) for j in range(len(categorical)))]
        picked = _sample(assigned, n, config.spark.compare_rows, seg_cfg.seed, columns)
        model_s, reported_s = (_named(picked, numeric, categorical, observed) for observed in (False, True))
        ids_s = picked[ID].to_numpy(dtype=object)
        labels_s = picked[sm.LABEL].to_numpy(dtype=np.int64)
        distances_s = picked[sm.DISTANCE].to_numpy(dtype=np.float64)
        rfm, rfm_metrics = _rfm(customers, ids_s, labels_s, config)
    carried = None
    if baseline is not None:
        with stages("baseline"):
            carried = identities(baseline, model_s, labels_s, config.comparison, ids_s)
    with stages("name & recommend"):
        counts, sizer, audiences = audience_sizes(assigned, k, plan.roles, numeric, n)
        segments, recommendations, not_applicable, _ = name_and_recommend(
            profiles, config, rfm_metrics, carried, plan.labels, plan.units, counts, sizer)
    comparison = None
    if baseline is not None and carried is not None:
        with stages("compare"):
            comparison = compare(baseline, carried, "refit", model_s, ids_s, labels_s, segments,
                                 plan.roles.get("monetary"), config.comparison, reported_s,
                                 customers.log.history_warning if customers.log else None)
    names = [s.name for s in segments]
    model = spark_model.as_dict(names, seg_cfg.seed)
    report = config.report
    result = AnalysisResult(
        format_version=FORMAT_VERSION,
        report=ReportMeta.from_config(config, currency_source),
        run=RunInfo(__version__, customers.name, customers.sha256, customers.kind, seg_cfg.seed,
                    library_versions(), effective_config(config), model_digest(model)),
        data=plan.quality, roles=tuple(plan.roles.items()), k_selection=selection, segments=segments,
        recommendations=recommendations,
        highlights=highlights(segments, plan.quality, selection, recommendations, customers.log, report.currency),
        segment_map=projected, value_column=plan.roles.get("monetary"), rules_not_applicable=not_applicable,
        transactions=customers.log, rfm=rfm, comparison=comparison, labels=tuple(plan.labels.items()),
        units=tuple(plan.units.items()), value_unit=plan.units.get(plan.roles.get("monetary", ""), ""))
    from reportgen.describe.keyfeatures import key_features
    from reportgen.render.html.explorer import stratified_rows as explorer_rows

    shown = explorer_rows(labels_s, report.explorer_rows, seg_cfg.seed)
    table_s = CustomerTable(ids_s[shown], labels_s[shown], distances_s[shown], tuple(names), plan.id_name, {},
                            {c: v[shown] for c, v in key_features(reported_s, plan.roles, segments).items()},
                            total=n)
    reference = functools.cache(lambda: reference_stats(reported_s, numeric, categorical, prepared.fences,
                                                        prepared.fills))
    writer = segment_writer(assigned, config, plan.id_name, names, recommendations, audiences)
    return analysis(result, table_s, model, reference, stages.timings, writer)


def _profiles(assigned: DataFrame, k: int, plan: Any, silhouettes: np.ndarray, n: int, config: Config) -> tuple:
    from reportgen.spark.profile import profile_spark

    profiles = profile_spark(assigned, k, plan.numeric, plan.categorical, plan.roles, silhouettes, n)
    return tuple(dataclasses.replace(p, traits=plain_traits(p, plan.labels, plan.units, config.report.currency))
                 for p in profiles)


def _rfm(customers: Customers, ids: np.ndarray, labels: np.ndarray, config: Config) -> tuple[Any, dict]:
    """RFM groups of a transaction log's customers, scored on the compared sample (every customer when few)."""
    if customers.kind != "transactions":
        return None, {}
    from pyspark.sql import functions as F

    from reportgen.describe.rfm import aligned_scores, load_rfm_groups, rfm_scores, rfm_summary, segment_rfm_metrics
    from reportgen.inputs.logs.sql import ID_COLUMN
    from reportgen.spark.read import to_pandas

    groups = load_rfm_groups(config.resolve(config.transactions.rfm_groups))
    if len(ids) < customers.rows:
        chosen = customers.frame.sparkSession.createDataFrame(pd.DataFrame({ID_COLUMN: [str(i) for i in ids]}))
        wanted = customers.frame.join(F.broadcast(chosen), ID_COLUMN)
    else:
        wanted = customers.frame
    table = to_pandas(wanted.select(ID_COLUMN, "recency_days", "frequency", "monetary").orderBy(ID_COLUMN))
    if table.empty:
        raise DataError(f"{customers.name}: no customers to score")
    scores = rfm_scores(table, ID_COLUMN, groups).set_index(ID_COLUMN)[["r_score", "f_score", "m_score", "rfm_group"]]
    scores = aligned_scores(scores, ids)
    return rfm_summary(scores, labels, groups), segment_rfm_metrics(scores, labels, groups)


__all__ = ["SparkInput", "analyse_spark"]
