"""The command line: parse options, build a config, call the library, turn user errors into one line.

Every command is a few lines; the work happens in :mod:`reportgen.pipeline`, :mod:`reportgen.validate` and
:mod:`reportgen.initconfig`.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from reportgen import __version__
from reportgen.errors import ReportgenError


def _fail_cleanly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Map library errors to ``Error: <one line>`` and exit code 1 (running out of memory too); Ctrl-C to 130."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReportgenError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except MemoryError:
            from reportgen.memory import out_of_memory

            click.echo(f"Error: {out_of_memory(kwargs.get('input_file'))}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted: nothing was written.", err=True)
            sys.exit(130)

    return wrapper


def _k_value(ctx: click.Context, param: click.Parameter, value: str | None) -> int | str | None:
    if value is None or value == "auto":
        return value
    if value.isdigit() and int(value) >= 2:
        return int(value)
    raise click.BadParameter(f"expected 'auto' or an integer of at least 2, got {value!r}")


def _formats(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    if value is None:
        return None
    items = [v.strip().lower() for v in value.split(",") if v.strip()]
    from reportgen.config import FORMATS

    unknown = [v for v in items if v not in FORMATS]
    if unknown or not items:
        raise click.BadParameter(f"choose from {', '.join(FORMATS)} (got {value!r})")
    return items


def _absolute(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(Path(value).expanduser().resolve())
    except (RuntimeError, OSError):  # a symbolic link loop: the command that opens it names the path
        return os.path.abspath(os.path.expanduser(value))


def _settings(config_path: str | None, input_file: str | None, overrides: dict[str, Any]):
    from reportgen.config import load_config
    from reportgen.inputs.database.url import is_url, split_password
    from reportgen.resources import sample_data_dir

    if config_path is None and input_file is None:
        config_path = str(sample_data_dir() / "reportgen.toml")
    for key, value in (("data.url", input_file if is_url(input_file) else None),
                       ("output.database", overrides.get("output.database"))):
        if value:  # libpq takes a password from the environment; the config never holds one
            overrides[key], password = split_password(value)
            if password is not None:
                os.environ.setdefault("PGPASSWORD", password)
    overrides["data.path"] = None if is_url(input_file) else _absolute(input_file)
    config = load_config(config_path, overrides)
    if overrides["data.path"] and config.data.url:  # a file on the command line wins over a configured database
        config = config.model_copy(update={"data": config.data.model_copy(update=dict.fromkeys(
            ("url", "table", "query")))})
    return config


def _log_sql() -> None:
    """Print the SQL sent to a database (``-v``) on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("  sql: %(message)s"))
    logger = logging.getLogger("reportgen.inputs.database")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)


_input_arg = click.argument("input_file", required=False, metavar="INPUT", type=click.Path(dir_okay=False))
_table_opt = click.option("--table", help="Database input: the table or view to read (INPUT is a database URL).")
_query_opt = click.option("--query", help="Database input: a SELECT to read instead of a table.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="reportgen")
def main() -> None:
    """Customer segmentation reports: a PDF brief, an HTML report, JSON and CSV from a customer table.

    \b
    Example:
      reportgen run                                # the bundled sample data → ./reportgen-report/
      reportgen run customers.csv -o out/ --period 2026-10
    """


@main.command()
@_input_arg
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="TOML config file.")
@_table_opt
@_query_opt
@click.option("-o", "--output", help="Output folder (default: ./reportgen-report).")
@click.option("--period", help="Period the report covers, e.g. 2026-10.")
@click.option("--title", help="Report title.")
@click.option("--k", "k", callback=_k_value, help="Number of segments, or 'auto'.")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--formats", callback=_formats, help="Comma-separated outputs: pdf,html,json,csv.")
@click.option("--template-dir", type=click.Path(file_okay=False, exists=True), help="Folder of template overrides.")
@click.option("--input", "input_kind", type=click.Choice(["auto", "customers", "transactions"]),
              help="What the file holds (default: recognised from its columns).")
@click.option("--as-of", help="Transaction logs: date the customer features are computed at (YYYY-MM-DD).")
@click.option("--window", help="Transaction logs: history used before --as-of, e.g. 90D, 12M, 2Y or all.")
@click.option("--baseline", type=click.Path(file_okay=False), help="A previous run's output folder to compare with.")
@click.option("--reuse-model", is_flag=True, default=None,
              help="With --baseline: assign customers with the baseline's model instead of refitting.")
@click.option("--write-to", help="Database URL the segments are written back to (tables segments, "
              "segment_summary).")
@click.option("--engine", type=click.Choice(["local", "spark"]),
              help="Where the computing runs: this process (default) or Apache Spark.")
@click.option("--spark-master", help="With --engine spark: local[*] (default), a cluster URL or sc://host:15002.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="Print stage timings and the SQL sent to a database.")
@_fail_cleanly
def run(input_file: str | None, config_path: str | None, table: str | None, query: str | None,
        write_to: str | None, output: str | None, period: str | None,
        title: str | None, k: int | str | None, seed: int | None, formats: list[str] | None,
        template_dir: str | None, input_kind: str | None, as_of: str | None, window: str | None,
        baseline: str | None, reuse_model: bool | None, engine: str | None, spark_master: str | None,
        quiet: bool, verbose: bool) -> None:
    """Segment customers and write the report (PDF, HTML, summary.json, segments.csv, model.json).

    \b
    Examples:
      reportgen run
      reportgen run customers.csv -o out/ --period 2026-10 --title "October customer brief"
      reportgen run -c reportgen.toml --k 5 --formats pdf,json
      reportgen run transactions.csv.gz --input transactions --as-of 2011-12-01 --window 12M -o out/
      reportgen run nov.csv -o runs/2026-11 --period 2026-11 --baseline runs/2026-10
      reportgen run postgresql://db.example/shop --table customers --period 2026-10 \\
          --write-to postgresql://db.example/crm
      reportgen run customers.parquet --engine spark --spark-master 'local[4]'
    """
    if verbose:
        _log_sql()
    overrides = {"data.table": table, "data.query": query, "output.database": write_to,
                 "output.dir": _absolute(output), "report.period": period, "report.title": title,
                 "segmentation.k": k, "segmentation.seed": seed, "output.formats": formats,
                 "output.template_dir": _absolute(template_dir), "data.input": input_kind,
                 "transactions.as_of": as_of, "transactions.window": window,
                 "comparison.baseline": _absolute(baseline), "comparison.reuse_model": reuse_model,
                 "engine": engine, "spark.master": spark_master}
    config = _settings(config_path, input_file, overrides)
    from reportgen.render.limits import check_address_space
    from reportgen.render.worker import prestart
    from reportgen.userfiles import check_user_files

    check_user_files(config)  # a broken rules file, map or template fails before any data or process starts
    check_address_space(config.output.formats)  # before the rendering process starts the chart engine

    prestart(config.output.formats)  # before the analysis libraries load: both processes import at once
    from reportgen.pipeline import build_report

    progress = None if quiet else (lambda stage: click.echo(f"reportgen: {stage}…", err=True))
    outcome = build_report(config, progress, parallel=True)
    if verbose:
        for stage, seconds in outcome.timings.items():
            click.echo(f"  {stage:<18}{seconds:8.2f} s", err=True)
        click.echo(f"  {'total':<18}{outcome.seconds:8.2f} s (charts, HTML and PDF render beside the rest)",
                   err=True)
    if not quiet:
        result = outcome.analysis.result
        click.echo(f"{result.customers:,} customers → {len(result.segments)} segments. Wrote:", err=True)
        for path in outcome.paths:
            click.echo(str(path))
        if config.output.database:
            from reportgen.inputs.database.url import redact

            click.echo(f"{redact(config.output.database)} {config.output.segments_table}, "
                       f"{config.output.summary_table} (period {config.report.period})")


@main.command()
@click.argument("input_file", metavar="INPUT", type=click.Path(dir_okay=False))
@_table_opt
@_query_opt
@click.option("-o", "--output", default="reportgen.toml", show_default=True, help="Config file to write.")
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@_fail_cleanly
def init(input_file: str, table: str | None, query: str | None, output: str, force: bool) -> None:
    """Write a commented config with the column roles inferred from INPUT (a file or a database URL).

    \b
    Example:
      reportgen init customers.csv -o reportgen.toml
      reportgen init postgresql://db.example/shop --table customers
    """
    from reportgen.initconfig import write_initial_config
    from reportgen.inputs.database.url import is_url

    database = None
    if is_url(input_file):
        database = _settings(None, input_file, {"data.table": table, "data.query": query}).data
    path = write_initial_config(Path(input_file), Path(output), force, database)
    click.echo(str(path))


@main.command()
@_input_arg
@click.option("-c", "--config", "config_path", type=click.Path(dir_okay=False), help="TOML config file.")
@_table_opt
@_query_opt
@_fail_cleanly
def validate(input_file: str | None, config_path: str | None, table: str | None, query: str | None) -> None:
    """Check the data and config and print the data-quality summary; writes nothing.

    \b
    Example:
      reportgen validate customers.csv -c reportgen.toml
    """
    from reportgen.validate import quality_summary

    click.echo(quality_summary(_settings(config_path, input_file, {"data.table": table, "data.query": query})))


@main.command()
@click.argument("runs_dir", type=click.Path(file_okay=False))
@click.option("-o", "--output", help="Output folder (default: RUNS_DIR/history).")
@click.option("--template-dir", type=click.Path(file_okay=False, exists=True), help="Folder of template overrides.")
@_fail_cleanly
def history(runs_dir: str, output: str | None, template_dir: str | None) -> None:
    """Write a trend report (history.html, history.pdf) over the runs in RUNS_DIR, ordered by period.

    Every subfolder of RUNS_DIR holding a summary.json counts as a run; at least three are needed.

    \b
    Example:
      reportgen history runs/                      # → runs/history/history.html and history.pdf
      reportgen history runs/ -o trends/
    """
    from reportgen.compare.history import History, collect_runs
    from reportgen.render.historyreport import render_history
    from reportgen.render.limits import check_address_space
    from reportgen.render.palette import unused_color

    check_address_space(["history"])
    runs = collect_runs(Path(runs_dir))
    out_dir = Path(output) if output else Path(runs_dir) / "history"
    paths = render_history(History.from_runs(runs, unused_color), out_dir.expanduser(),
                           Path(_absolute(template_dir)) if template_dir else None)
    click.echo(f"{len(runs)} runs, {runs[0].period} to {runs[-1].period}. Wrote:", err=True)
    for path in paths:
        click.echo(str(path))


def _interrupt(signum: int, frame: object) -> None:
    # SIGTERM (a scheduler stopping the job) unwinds like Ctrl-C, so staging folders are removed on the way out.
    raise KeyboardInterrupt


def entry() -> None:
    """Console entry point: run the command line, then leave without the interpreter's slow teardown.

    Tearing down the rendering libraries (the chart engine's JavaScript runtime, fonts) takes most of a second
    after the work is done; every output is already written and closed when a command returns, so the process
    flushes its streams and exits directly.
    """
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        main.main(prog_name="reportgen")
        code: int = 0
    except SystemExit as exc:
        if isinstance(exc.code, str):
            click.echo(exc.code, err=True)
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
