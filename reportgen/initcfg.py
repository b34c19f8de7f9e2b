"""``reportgen init``: a commented config whose values are inferred from the data.

The text is generated from the config declaration itself, so every key appears with its one-line help and
there is no second list of keys to keep in step.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from pydantic import BaseModel

from reportgen.config import Config, DataConfig, FeaturesConfig, TransactionsConfig
from reportgen.currency import SAMPLE, CurrencyGuess, infer_currency
from reportgen.errors import ConfigError
from reportgen.load import read_table
from reportgen.roles import infer_roles, suggest_totals
from reportgen.schema import infer_schema
from reportgen.transactions import _header as _log_format
from reportgen.transactions import detect_log_columns, log_header, looks_like_log


def toml_value(value: Any) -> str:
    """A TOML literal for a scalar, list or flat table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def toml_key(key: str) -> str:
    """A bare TOML key when possible, else a quoted one."""
    return key if key.replace("_", "").replace("-", "").isalnum() else toml_value(key)


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
    mapping = detect_log_columns(log_header(input_file, data), transactions)
    values: dict[str, dict[str, Any]] = {
        "data": {"path": str(input_file), "input": "transactions"},
        "transactions": {k: v for k, v in vars(mapping).items() if v} if mapping else {},
    }
    guess = _log_currency(input_file, data, mapping.country if mapping else None)
    if guess:
        values["report"] = {"currency": guess.symbol}
    header_lines = [f"# reportgen config for the transaction log {input_file.name}, written by `reportgen init`.",
                    "# Column roles were recognised from the header; commented keys show their defaults.",
                    *_currency_note(guess), ""]
    body: list[str] = []
    for name, info in Config.model_fields.items():
        if name in ("base_dir", "features", "cleaning"):
            continue
        body += [*_section(name, info.annotation, values.get(name, {})), ""]
    return "\n".join(header_lines + body)


def _currency_note(guess: CurrencyGuess | None) -> list[str]:
    return [f"# currency: {guess.code} ({guess.symbol.strip()}), inferred from {guess.evidence}"] if guess else []


def _log_currency(path: Path, data: DataConfig, country: str | None) -> CurrencyGuess | None:
    """The currency a log's country column suggests, from its first rows (CSV/TSV, gzip or Parquet)."""
    if not country:
        return None
    kind, _, sep, encoding = _log_format(path, data, [])
    try:
        if kind == "parquet":
            frame = pq.ParquetFile(path).read_row_group(0, columns=[country]).slice(0, SAMPLE).to_pandas()
        else:
            frame = pd.read_csv(path, sep=sep, usecols=[country], nrows=SAMPLE, dtype=str, encoding=encoding,
                                encoding_errors="replace")
    except (OSError, ValueError, KeyError, pd.errors.ParserError):
        return None  # only a suggestion: `run` reads the log properly and says what it found
    return infer_currency(frame)


def initial_config_text(input_file: Path) -> str:
    """The commented TOML text for ``input_file``, with inferred id, features, dates and roles (or, for a
    transaction log, its column mapping)."""
    data = DataConfig(path=str(input_file))
    log_text = _log_config_text(input_file, data)
    if log_text is not None:
        return log_text
    table = read_table(input_file, data)
    guess = infer_currency(table.frame)  # before the schema turns "£12.50" text into numbers
    schema = infer_schema(table.frame, FeaturesConfig())
    numeric = [*schema.numeric, *(f"{c}_days" for c, _ in schema.dates)]
    # A suggested total never takes the name of a column the table already has (``run`` would refuse it).
    derived = {name: formula for name, formula in suggest_totals(numeric, {}, {}).items()
               if name not in table.frame.columns}
    roles = infer_roles([*numeric, *derived], {})
    values: dict[str, dict[str, Any]] = {
        "data": {"path": str(input_file), "id_column": schema.id_column,
                 "date_formats": {c: f for c, f in schema.dates if f}},
        "features": {"numeric": [*numeric, *derived], "categorical": list(schema.categorical),
                     "exclude": [c for c, _ in schema.ignored], "derived": derived, "roles": roles},
        **({"report": {"currency": guess.symbol}} if guess else {}),
    }
    header = [f"# reportgen config for {input_file.name} ({table.rows_read:,} rows), written by `reportgen init`.",
              "# Values were inferred from the data; commented keys show their defaults.",
              *(f"# ignored: {c}: {reason}" for c, reason in schema.ignored), *_currency_note(guess), ""]
    body: list[str] = []
    for name, info in Config.model_fields.items():
        if name == "base_dir":
            continue
        body += [*_section(name, info.annotation, values.get(name, {})), ""]
    return "\n".join(header + body)


def write_initial_config(input_file: Path, output: Path, force: bool = False) -> Path:
    """Write the inferred config to ``output`` (refusing to overwrite unless ``force``)."""
    if output.exists() and not force:
        raise ConfigError(f"{output} already exists; use --force to overwrite it")
    text = initial_config_text(input_file.resolve())
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
