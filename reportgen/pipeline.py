"""The whole run, reading like a table of contents.

``analyse``: load → validate/clean → features → segment → profile → name → recommend, returning the frozen
result. ``build_report``: analyse, draw the charts, render every format into a staging folder, then move it
into place. Nothing is written until everything has been computed and rendered.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from reportgen import __version__
from reportgen.compare.baseline import Baseline, load_baseline
from reportgen.compare.drift import reference_stats
from reportgen.compare.monthly import Carried, check_compatible, compare, identities, reused
from reportgen.config import Config, effective_config
from reportgen.describe.highlights import highlights
from reportgen.describe.keyfeatures import key_features
from reportgen.describe.naming import name_segments
from reportgen.describe.plain import plain_traits, portrait, role_texts, short_trait
from reportgen.describe.profile import (
    SegmentProfile,
    profile_segments,
    segment_map,
    segment_metrics,
    segment_silhouettes,
)
from reportgen.describe.rfm import (
    SCORES,
    aligned_scores,
    customer_columns,
    load_rfm_groups,
    rfm_scores,
    rfm_summary,
    segment_rfm_metrics,
)
from reportgen.describe.rules import SegmentMetrics, load_rulebook, recommend
from reportgen.describe.stakes import rank, target_masks
from reportgen.errors import ConfigError
from reportgen.inputs.database.writeback import write_back, write_target
from reportgen.inputs.logs.transactions import ID_COLUMN
from reportgen.inputs.sources import Source, load_source
from reportgen.memory import give_back, out_of_memory
from reportgen.model.fit import FittedModel, fit_all, order_by_size, transform
from reportgen.model.kselect import sample_rows, select_k
from reportgen.model.modelfile import assign, export_model, model_digest
from reportgen.prepare.currency import settle_currency
from reportgen.prepare.features import PreparedData, prepare
from reportgen.render.palette import segment_colors
from reportgen.result import (
    FORMAT_VERSION,
    AnalysisResult,
    CustomerTable,
    KSelection,
    ReportMeta,
    RunInfo,
    Segment,
)
from reportgen.result.provenance import library_versions
from reportgen.userfiles import check_user_files

if TYPE_CHECKING:
    from reportgen.render.worker import RenderWorker

@dataclass(frozen=True)
class Analysis:
    """The result plus what travels beside it: per-customer rows and the model as plain data."""

    result: AnalysisResult
    customers: CustomerTable
    model: dict
    measure_reference: _Once = field(repr=False)  # computed when written, off the critical path
    timings: dict[str, float] = field(default_factory=dict)
    # Writes the per-customer files into the staging folder instead of the CSV renderer (the Spark engine keeps
    # the customers in Spark); returns the paths written.
    write_rows: Callable[[Path], list[Path]] | None = field(default=None, repr=False)

    @property
    def reference(self) -> dict:
        """Feature statistics a later run measures drift against (``reference.json``)."""
        return self.measure_reference()


class _Once:
    """A computation run at most once, that lets go of its inputs (the cleaned table) once it has run."""

    def __init__(self, func: Callable[..., dict], *args: object) -> None:
        self._call: Callable[[], dict] | None = functools.partial(func, *args)
        self._value: dict = {}

    def __call__(self) -> dict:
        if self._call is not None:
            self._value, self._call = self._call(), None
        return self._value


@dataclass(frozen=True)
class Outcome:
    """What a run wrote."""

    out_dir: Path
    paths: tuple[Path, ...]
    timings: dict[str, float]  # seconds per stage; with a render worker some stages ran side by side
    analysis: Analysis
    seconds: float = 0.0  # wall time of the whole run


Progress = Callable[[str], None]


class _Stages:
    def __init__(self, progress: Progress | None) -> None:
        self.progress, self.timings = progress, {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self.progress:
            self.progress(name)
        start = time.perf_counter()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.perf_counter() - start


def _name_and_recommend(profiles: tuple[SegmentProfile, ...], config: Config,
                        extra: dict[int, dict[str, float | str]], carried: Carried | None, prepared: PreparedData,
                        labels: np.ndarray) -> tuple[tuple[Segment, ...], tuple, tuple, dict]:
    masks = target_masks(prepared.frame, prepared.roles, labels)
    return name_and_recommend(profiles, config, extra, carried, prepared.labels, prepared.units,
                              {key: int(mask.sum()) for key, mask in masks.items()},
                              lambda recs, targets: rank(recs, masks, labels, prepared.value, targets))


Sizer = Callable[[list, dict[str, str | None]], tuple[tuple, dict]]


def name_and_recommend(profiles: tuple[SegmentProfile, ...], config: Config,
                       extra: dict[int, dict[str, float | str]], carried: Carried | None,
                       feature_labels: dict[str, str], units: dict[str, str],
                       audience_counts: dict[tuple[int, str], int],
                       size: Sizer) -> tuple[tuple[Segment, ...], tuple, tuple, dict]:
    """Name the profiled segments and recommend actions, whichever engine computed the profiles.

    ``audience_counts`` holds the customers of every (segment, target) audience; ``size`` sizes, values and ranks
    the recommendations as :func:`reportgen.stakes.rank` does (returning them and the audience rows by file).
    """
    k, currency = len(profiles), config.report.currency
    metrics = [SegmentMetrics(p.id, "", segment_metrics(p, k) | role_texts(p, units, currency, feature_labels)
                              | extra.get(p.id, {}), tuple(t.text for t in p.traits)) for p in profiles]
    configured = {int(key): value for key, value in config.segmentation.names.items() if key.isdigit()}
    inherited = carried.names if carried else {}
    fallback = {p.id: [short_trait(t, feature_labels) for t in p.traits] for p in profiles}
    names = name_segments(metrics, inherited | configured, fallback)
    for seg, (name, reason) in list(names.items()):
        # A new segment must not look like the retired one it replaces: same name, different customers.
        if carried and seg not in inherited and seg not in configured and name in carried.retired_names:
            names[seg] = (f"{name} (new)", reason + " Last run's segment of that name has no successor.")
    for seg in set(inherited) - set(configured):
        distance = next((d for n, _, d in carried.match.pairs if n == seg), 0.0)
        old = carried.match.old_of[seg]
        share = next((v for n, o, v in carried.match.overlap if (n, o) == (seg, old)), None)
        kept = f"{share:.0%} of its customers who are in both runs, " if share is not None else ""
        names[seg] = (names[seg][0], f"Same segment as last run's '{inherited[seg]}' ({kept}centroid distance "
                                     f"{distance:.2f}); the name is kept so the segment keeps its identity.")
    colors = segment_colors(k, carried.colors if carried else {})
    named = [SegmentMetrics(m.segment_id, names[m.segment_id][0], m.metrics, m.traits) for m in metrics]
    rulebook = load_rulebook(config.resolve(config.rules.file), config.rules.mode)
    recommendations, not_applicable = recommend(rulebook, named, currency, audience_counts)
    ordered, audiences = size(recommendations, {r.id: r.target for r in rulebook.rules})
    segments = tuple(
        Segment(id=p.id, name=names[p.id][0], name_reason=names[p.id][1], color=colors[p.id],
                size=p.size, share=p.share, value_share=p.value_share, silhouette=p.silhouette, stats=p.stats,
                categories=p.categories, traits=p.traits,
                recommendations=tuple(r for r in ordered if r.segment_id == p.id), portrait=portrait(p.traits))
        for p in profiles)
    return segments, ordered, tuple(not_applicable), audiences


def _log_features(configured: list[str] | None, prepared: PreparedData,
                  default: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Features to log-scale: the configured list (each must be a numeric feature) or the input's default."""
    if configured is None:
        return tuple(c for c in default if c in prepared.numeric)
    unknown = [c for c in configured if c not in prepared.numeric]
    if unknown:
        raise ConfigError([f"Config value 'segmentation.log_features': {c!r} is not a numeric feature "
                           f"(numeric features: {', '.join(prepared.numeric)})" for c in unknown])
    return tuple(configured)


def _cleaned_as_baseline(prepared: PreparedData, reference: dict) -> pd.DataFrame:
    """This month's model frame cleaned with the baseline's imputed values and fences (``reference.json``), so the
    baseline's model assigns customers as last month's cleaning would have seen them."""
    numeric = (reference.get("numeric") or {}) if reference.get("format", 1) >= 2 else {}
    frame = prepared.frame.copy(deep=False)
    for column, stats in numeric.items():
        if column not in frame.columns or prepared.observed is None or column not in prepared.observed.columns:
            continue
        values = prepared.observed[column]
        values = values.fillna(stats["fill"]) if stats.get("fill") is not None else values.fillna(frame[column])
        frame[column] = values.clip(*stats["fence"]) if stats.get("fence") else values
    return frame


def _continue_baseline(baseline: Baseline, config: Config, prepared: PreparedData, fitted: FittedModel,
                       selection: KSelection) -> tuple[Carried, FittedModel, KSelection]:
    """Refit and match segments to the baseline's, or (``reuse_model``) assign with the baseline's model."""
    if not config.comparison.reuse_model:
        return (identities(baseline, prepared.frame, fitted.labels, config.comparison, prepared.ids), fitted,
                selection)
    frame = _cleaned_as_baseline(prepared, baseline.reference)
    carried = reused(baseline, frame, fitted.labels)
    labels, distances = assign(baseline.model, frame)
    k = len(baseline.model["centroids"])
    reason = (f"K = {k}: last run's model was reused (comparison.reuse_model), so segments are assigned exactly as "
              f"last time; a fresh fit on this data would choose K = {selection.chosen_k}.")
    fitted = dataclasses.replace(fitted, labels=labels, distances=distances,
                                 centroids=np.asarray(baseline.model["centroids"]))
    return carried, fitted, dataclasses.replace(selection, mode="reused", chosen_k=k, reason=reason)


def analyse(config: Config, progress: Progress | None = None) -> Analysis:
    """Run the computing half and return the frozen result (nothing is written)."""
    stages = _Stages(progress)
    check_user_files(config)  # rules, names, maps, templates: before any data is read
    with stages.stage("load"):
        source: Source = load_source(config)
        scores, groups = None, None
        if source.kind == "transactions":  # a log's customers get RFM scores from their aggregated history
            groups = load_rfm_groups(config.resolve(config.transactions.rfm_groups))
            scores = rfm_scores(source.table.frame, ID_COLUMN, groups).set_index(ID_COLUMN)[list(SCORES)]
    config, seg_cfg = source.config, source.config.segmentation
    with stages.stage("clean"):
        prepared: PreparedData = prepare(source.table, config)
        config, currency_source = settle_currency(config, prepared.quality)
        if scores is None:  # only transaction logs read the raw rows again; let the memory go
            source = dataclasses.replace(source, table=dataclasses.replace(source.table, frame=pd.DataFrame()))
    baseline = None
    if config.comparison.baseline:
        with stages.stage("baseline"):
            baseline = load_baseline(config.resolve(config.comparison.baseline))
            check_compatible(baseline, prepared.numeric, prepared.categorical)
    with stages.stage("features"):
        log_features = _log_features(seg_cfg.log_features, prepared, source.log_scaled)
        matrix, preprocessor = transform(prepared.frame, prepared.numeric, prepared.categorical, seg_cfg,
                                         log_features)
    pca = preprocessor.named_steps.get("pca")
    with stages.stage("k search"):
        selection, models = select_k(matrix, seg_cfg, len(matrix), pca.n_components_ if pca else None,
                                     float(pca.explained_variance_ratio_.sum()) if pca else None)
        selection = dataclasses.replace(selection, log_features=log_features)
    with stages.stage("fit"):
        fitted: FittedModel = order_by_size(fit_all(models[selection.chosen_k], matrix, seg_cfg), matrix,
                                            preprocessor)
    carried = None
    if baseline is not None:
        with stages.stage("baseline"):
            carried, fitted, selection = _continue_baseline(baseline, config, prepared, fitted, selection)
    with stages.stage("profile"):
        rows = sample_rows(len(matrix), seg_cfg.sample_size, seg_cfg.seed)
        silhouettes = segment_silhouettes(matrix, fitted.labels, selection.chosen_k, rows)
        profiles = profile_segments(prepared.reported, fitted.labels, prepared.numeric, prepared.categorical,
                                    prepared.roles, silhouettes, prepared.frame)
        profiles = tuple(dataclasses.replace(p, traits=plain_traits(p, prepared.labels, prepared.units,
                                                                    config.report.currency)) for p in profiles)
        projected = segment_map(matrix, fitted.labels, seg_cfg.seed)
        rfm, rfm_metrics, extra_columns = None, {}, {}
        if scores is not None and groups is not None:
            aligned = aligned_scores(scores, prepared.ids)
            rfm = rfm_summary(aligned, fitted.labels, groups)
            rfm_metrics = segment_rfm_metrics(aligned, fitted.labels, groups)
            extra_columns = customer_columns(source.table.frame, prepared.id_name, scores, prepared.ids)
    with stages.stage("name & recommend"):
        segments, recommendations, not_applicable, audiences = _name_and_recommend(
            profiles, config, rfm_metrics, carried, prepared, fitted.labels)
    comparison = None
    if baseline is not None and carried is not None:
        with stages.stage("compare"):
            comparison = compare(baseline, carried, "reuse-model" if config.comparison.reuse_model else "refit",
                                 prepared.frame, prepared.ids, fitted.labels, segments, prepared.roles.get("monetary"),
                                 config.comparison, prepared.reported,
                                 source.log.history_warning if source.log else None)
    names = [s.name for s in segments]
    if baseline is not None and config.comparison.reuse_model:
        model = {**baseline.model, "segment_names": names}
    else:
        model = export_model(fitted, prepared.numeric, prepared.categorical, names, seg_cfg.seed, log_features)
    report = config.report
    result = AnalysisResult(
        format_version=FORMAT_VERSION,
        report=ReportMeta.from_config(config, currency_source),
        run=RunInfo(__version__, source.table.path.name, source.table.sha256, source.kind, seg_cfg.seed,
                    library_versions(), effective_config(config), model_digest(model)),
        data=prepared.quality, roles=tuple(prepared.roles.items()), k_selection=selection, segments=segments,
        recommendations=recommendations,
        highlights=highlights(segments, prepared.quality, selection, recommendations, source.log,
                              report.currency),
        segment_map=projected, value_column=prepared.roles.get("monetary"), rules_not_applicable=not_applicable,
        transactions=source.log, rfm=rfm, comparison=comparison, labels=tuple(prepared.labels.items()),
        units=tuple(prepared.units.items()), value_unit=prepared.units.get(prepared.roles.get("monetary", ""), ""))
    customers = CustomerTable(prepared.ids, fitted.labels, fitted.distances, tuple(names), prepared.id_name,
                              extra_columns, key_features(prepared.reported, prepared.roles, segments),
                              audiences=audiences)
    reference = _Once(reference_stats, prepared.reported, prepared.numeric, prepared.categorical, prepared.fences,
                      prepared.fills)
    return Analysis(result, customers, model, reference, stages.timings)


def build_report(config: Config, progress: Progress | None = None, *, parallel: bool = False) -> Outcome:
    """Analyse, render every requested format into a staging folder, then move it into place.

    Parameters
    ----------
    config
        The run's configuration.
    progress
        Called with each stage's name as it starts.
    parallel
        Render HTML and PDF in a second process, started before the analysis so that it imports and warms up
        the rendering libraries meanwhile (what the command line does). The files written are the same.
    """
    from reportgen.render.limits import check_address_space
    from reportgen.render.output import prepare_target
    from reportgen.render.worker import VISUAL, claim

    start = time.perf_counter()
    check_user_files(config)  # before the render process starts: a broken rules file fails at once
    check_address_space(config.output.formats)
    out_dir = prepare_target(config.resolve(config.output.dir) or Path.cwd() / "reportgen-report")
    write_target(config)  # a write-back database is checked before any data is read
    visual = tuple(f for f in dict.fromkeys(config.output.formats) if f in VISUAL)
    worker = claim(visual) if parallel and visual else None
    try:
        if config.engine == "spark":
            from reportgen.spark.engine import analyse_spark

            analysis = analyse_spark(config, progress, name_and_recommend, Analysis)
        else:
            analysis = analyse(config, progress)
        paths, timings = _render_all(config, analysis, out_dir, worker, progress)
    except MemoryError:
        raise out_of_memory(config.resolve(config.data.path)) from None
    finally:
        if worker is not None:
            worker.close()
    return Outcome(out_dir, paths, timings, analysis, time.perf_counter() - start)


def _render_all(config: Config, analysis: Analysis, out_dir: Path, worker: RenderWorker | None,
                progress: Progress | None) -> tuple[tuple[Path, ...], dict[str, float]]:
    """Render every format into a staging folder (the worker takes the visual ones) and move it into place."""
    from reportgen.render import RenderContext, renderer
    from reportgen.render.jsonout import dumps
    from reportgen.render.output import staging
    from reportgen.render.worker import VISUAL

    stages = _Stages(progress)
    stages.timings.update(analysis.timings)
    formats = list(dict.fromkeys(config.output.formats))
    here = [f for f in formats if (worker is None or f not in VISUAL) and not (f == "csv" and analysis.write_rows)]
    ctx = RenderContext(generated_at=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M"),
                        template_dir=config.resolve(config.output.template_dir))
    if set(VISUAL) & set(here):
        from reportgen.render.charts.report import build_charts

        with stages.stage("charts"):
            charts, notes = build_charts(analysis.result)
        ctx = dataclasses.replace(ctx, charts=charts, chart_notes=notes)
    written: list[Path] = []
    with staging(out_dir) as stage:
        try:
            if worker is not None:
                worker.submit(analysis.result, analysis.customers, stage, ctx.generated_at, ctx.template_dir)
            for fmt in here:
                with stages.stage(fmt):
                    written += renderer(fmt)(analysis.result, analysis.customers, ctx, stage)
            with stages.stage("write"):
                if analysis.write_rows is not None:
                    written += analysis.write_rows(stage)
                for name, data in (("model.json", analysis.model), ("reference.json", analysis.reference)):
                    (stage / name).write_text(dumps(data), encoding="utf-8")
                    written.append(stage / name)
            if worker is not None:
                give_back()  # the analysis is done: keep only what the wait needs resident
                written += worker.wait(progress, stages.timings)
            if config.output.database:  # last: its one transaction commits only when every file is written
                with stages.stage("write back"):
                    write_back(config, analysis.result, analysis.customers)
        except BaseException:
            if worker is not None:
                worker.close()  # before the staging folder is removed: it may still be writing there
            raise
    return tuple(out_dir / p.name for p in written), stages.timings
