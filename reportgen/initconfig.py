"""``reportgen init``: a commented config whose values are inferred from the data.

The text is generated from the config declaration itself, so every key appears with its one-line help and
there is no second list of keys to keep in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from reportgen.config import Config, DataConfig, FeaturesConfig, TransactionsConfig
from reportgen.errors import ConfigError, DataError
from reportgen.formatting import toml_value
from reportgen.inputs.files import LoadedTable, read_table
from reportgen.inputs.logs.columns import LogColumns
from reportgen.inputs.logs.source import open_log
from reportgen.inputs.logs.transactions import log_mapping, looks_like_log
from reportgen.prepare.currency import CurrencyGuess, infer_currency
from reportgen.prepare.features import PreparedData, prepare
from reportgen.prepare.roles import infer_roles, suggest_totals
from reportgen.prepare.schema import infer_schema


def _section(name: str, model: type[BaseModel], values: dict[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    nested = []
    for key, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            nested.append((key, annotation))
            continue
        lines.append(f"# {info.description}")
        if key in values and values[key] is not None:
            lines.append(f"{key} = {toml_value(values[key])}")
        else:
            default = info.get_default(call_default_factory=True)
            shown = "(unset)" if default is None else toml_value(default)
            lines.append(f"# {key} = {shown}")
    for key, sub in nested:
        lines += ["", *_section(f"{name}.{key}", sub, values.get(key, {}))]
    return lines


def _log_config_text(input_file: Path, data: DataConfig) -> str | None:
    """The commented TOML text for a transaction log (its column mapping), or None when it is not a log."""
    transactions = TransactionsConfig()
    if not looks_like_log(input_file, data, transactions):
        return None
    mapping, reasons = log_mapping(input_file, data, transactions)
    return _log_text(input_file.name, {"path": str(input_file)}, mapping, reasons,
                     _log_currency(input_file, data, mapping.country if mapping else None))


def _log_text(name: str, where: dict[str, Any], mapping: LogColumns | None, reasons: list[str],
              guess: CurrencyGuess | None = None) -> str:
    values: dict[str, dict[str, Any]] = {
        "data": {**where, "input": "transactions"},
        "transactions": {k: v for k, v in vars(mapping).items() if v} if mapping else {},
    }
    if guess:
        values["report"] = {"currency": guess.symbol}
    header_lines = [f"# reportgen config for the transaction log {name}, written by `reportgen init`.",
                    "# Column roles were recognised from the header and first rows; commented keys show their "
                    "defaults.", *(f"# {line}" for line in reasons), *_currency_note(guess), ""]
    body: list[str] = []
    for name, info in Config.model_fields.items():
        if name in ("base_dir", "features", "cleaning"):
            continue
        body += [*_section(name, info.annotation, values.get(name, {})), ""]
    return "\n".join(header_lines + body)


def _currency_note(guess: CurrencyGuess | None) -> list[str]:
    return [f"# currency: {guess.code} ({guess.symbol.strip()}), inferred from {guess.evidence}"] if guess else []


def _log_currency(path: Path, data: DataConfig, country: str | None) -> CurrencyGuess | None:
    """The currency a log's country column suggests, from the first rows the log reader samples."""
    if not country:
        return None
    sample = open_log(path, data, None, []).sample
    return infer_currency(sample[[country]]) if country in sample else None


def initial_config_text(input_file: Path) -> str:
    """The commented TOML text for ``input_file``, with inferred id, features, dates and roles (or, for a
    transaction log, its column mapping)."""
    data = DataConfig(path=str(input_file))
    log_text = _log_config_text(input_file, data)
    if log_text is not None:
        return log_text
    return _table_text(input_file.name, {"path": str(input_file)}, read_table(input_file, data))


def database_config_text(data: DataConfig) -> str:
    """The commented TOML text for a database table or query (``data.url`` with ``data.table`` or ``data.query``)."""
    from reportgen.inputs.database.reader import (
        database_input,
        is_log,
        log_mapping_in_database,
        open_input,
        read_customers,
    )

    source = database_input(data)
    if source is None:
        raise ConfigError("Config value 'data.url': a database URL is needed but received None")
    where = {"url": data.url, "table": data.table, "query": data.query}
    config = Config(data=data)
    with open_input(source) as db:
        if is_log(db, source, config):
            return _log_text(source.name, where, *log_mapping_in_database(db, source, config))
        return _table_text(source.name, where, read_customers(db, source, config))


def _table_text(name: str, where: dict[str, Any], table: Any) -> str:
    guess = infer_currency(table.frame)  # before the schema turns "£12.50" text into numbers
    schema = infer_schema(table.frame, FeaturesConfig())
    numeric = [*schema.numeric, *(f"{c}_days" for c, _ in schema.dates)]
    # A suggested total never takes the name of a column the table already has (``run`` would refuse it).
    derived = {name: formula for name, formula in suggest_totals(numeric, {}, {}).items()
               if name not in table.frame.columns}
    roles = infer_roles([*numeric, *derived], {})
    values: dict[str, dict[str, Any]] = {
        "data": {**where, "id_column": schema.id_column,
                 "date_formats": {c: f for c, f in schema.dates if f}},
        "features": {"numeric": [*numeric, *derived], "categorical": list(schema.categorical),
                     "exclude": [c for c, _ in schema.ignored], "derived": derived, "roles": roles},
        **({"report": {"currency": guess.symbol}} if guess else {}),
    }
    ignored = list(schema.ignored)
    understood = _understood(table)
    if understood is not None:
        prepared, notes = understood
        ignored = [(c.name, c.reason or "") for c in prepared.quality.columns if c.kind == "ignored"]
        values["features"].update({
            "numeric": list(prepared.numeric), "categorical": list(prepared.categorical),
            "exclude": [c for c, _ in ignored], "roles": prepared.roles, "labels": prepared.labels})
        if prepared.quality.id_column:
            values["data"]["id_column"] = prepared.quality.id_column
    else:
        notes = []
    header = [f"# reportgen config for {name} ({table.rows_read:,} rows), written by `reportgen init`.",
              "# Values were inferred from the data; commented keys show their defaults. Edit the roles and",
              "# labels below to override what was inferred.",
              *(f"# ignored: {c}: {reason}" for c, reason in ignored),
              *(f"# inferred: {line}" for line in notes), *_currency_note(guess), ""]
    body: list[str] = []
    for name, info in Config.model_fields.items():
        if name == "base_dir":
            continue
        body += [*_section(name, info.annotation, values.get(name, {})), ""]
    return "\n".join(header + body)


def _understood(table: LoadedTable) -> tuple[PreparedData, list[str]] | None:
    """The run's own reading of the table (roles with their reasons, labels, units, coded categories, flags,
    sentinels, leaks and near-duplicates), or None when the table cannot be prepared as it is."""
    try:
        prepared = prepare(table, Config(data=DataConfig(path=str(table.path))))
    except (ConfigError, DataError):
        return None
    notes = [f"{c.name}: {c.note}" for c in prepared.quality.columns if c.note]
    notes += [f"{feature}: unit {unit}" for feature, unit in prepared.units.items() if unit != "number"]
    return prepared, notes


def write_initial_config(input_file: Path | None, output: Path, force: bool = False,
                         database: DataConfig | None = None) -> Path:
    """Write the config inferred from ``input_file`` (or the ``database`` input) to ``output`` (refusing to
    overwrite unless ``force``)."""
    if output.exists() and not force:
        raise ConfigError(f"{output} already exists; use --force to overwrite it")
    text = database_config_text(database) if database else initial_config_text(Path(input_file or "").resolve())
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {output}: {exc.strerror}") from None
    return output


def config_reference() -> str:
    """The config reference as a Markdown table (key, default, help), generated from the declaration."""
    rows = ["| key | default | meaning |", "| --- | --- | --- |"]

    def walk(prefix: str, model: type[BaseModel]) -> None:
        for key, info in model.model_fields.items():
            annotation = info.annotation
            if key == "base_dir":
                continue
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(f"{prefix}{key}.", annotation)
                continue
            default = info.get_default(call_default_factory=True)
            shown = "—" if default is None or default == {} else f"`{toml_value(default)}`"
            rows.append(f"| `{prefix}{key}` | {shown} | {info.description} |")

    walk("", Config)
    return "\n".join(rows)


if __name__ == "__main__":
    print(config_reference())
