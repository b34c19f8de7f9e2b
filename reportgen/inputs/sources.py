"""What the analysis starts from: a customer table as read, or a transaction log aggregated per customer.

Both end as a :class:`Source`: one row per customer, and a config whose roles and defaults fit the input, so
the rest of the pipeline does not care which kind of file came in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportgen.config import Config
from reportgen.errors import DataError
from reportgen.inputs.database.reader import DatabaseInput, database_input
from reportgen.inputs.files import LoadedTable, file_sha256, read_table
from reportgen.inputs.logs.transactions import ID_COLUMN, aggregate_log, looks_like_log
from reportgen.result import LogSummary

# Roles the aggregated log always provides; the config may still point a role elsewhere.
LOG_ROLES = {"monetary": "monetary", "frequency": "frequency", "recency": "recency_days", "tenure": "tenure_days"}
# Heavy-tailed spend and counts: K-Means on raw values would give one giant segment and a few outliers.
LOG_SCALED = ("monetary", "frequency", "avg_order_value", "distinct_products", "recent_spend", "mean_days_between")


@dataclass(frozen=True)
class Source:
    """One row per customer, ready for :func:`reportgen.prepare.features.prepare`."""

    kind: str  # customers | transactions
    table: LoadedTable
    config: Config  # the user's config with the defaults this kind of input needs
    log: LogSummary | None = None
    log_scaled: tuple[str, ...] = ()


def input_path(config: Config) -> Path:
    """The input file named by the config, resolved against the config's folder."""
    path = config.resolve(config.data.path)
    if path is None:
        raise DataError("no input file: give one on the command line or set data.path in the config")
    return path


def input_kind(path: Path, config: Config) -> str:
    """``customers`` or ``transactions``: as configured, or recognised from the file's columns."""
    # looks_like_log honours data.input, and answers False for a file it cannot read (the loader reports it).
    return "transactions" if looks_like_log(path, config.data, config.transactions) else "customers"


def log_config(config: Config) -> Config:
    """The user's config plus the id and roles an aggregated log needs (user settings win)."""
    roles: dict[str, Any] = config.features.roles.model_dump()
    for role, column in LOG_ROLES.items():
        roles[role] = roles[role] or column
    features = config.features.model_copy(update={"roles": config.features.roles.model_copy(update=roles)})
    data = config.data.model_copy(update={"id_column": ID_COLUMN, "date_formats": {}})
    return config.model_copy(update={"features": features, "data": data})


def _log_summary(aggregate: Any) -> LogSummary:
    columns = tuple((role, name) for role, name in vars(aggregate.columns).items() if name)
    return LogSummary(as_of=aggregate.as_of, window=aggregate.window, window_start=aggregate.window_start,
                      columns=columns, reconciliation=aggregate.reconciliation,
                      excluded_customers=aggregate.excluded_customers,
                      totals=tuple((k, float(v)) for k, v in aggregate.totals.items()), notes=aggregate.notes,
                      first_date=aggregate.first_date, history_warning=aggregate.history_warning)


def load_source(config: Config) -> Source:
    """Read the input named by the config; a transaction log is aggregated per customer."""
    if (database := database_input(config.data)) is not None:
        return _database_source(config, database)
    path = input_path(config)
    if input_kind(path, config) == "customers":
        return Source("customers", read_table(path, config.data), config)
    return _log_source(config, aggregate_log(path, config.data, config.transactions), path, file_sha256(path))


def _database_source(config: Config, database: DatabaseInput) -> Source:
    """A customer table read from a database, or a log aggregated inside it."""
    from reportgen.inputs.database.reader import aggregate_in_database, is_log, open_input, read_customers

    with open_input(database) as db:
        if not is_log(db, database, config):
            return Source("customers", read_customers(db, database, config), config)
        aggregate, digest = aggregate_in_database(db, database, config.transactions, config.data)
    return _log_source(config, aggregate, Path(database.name), digest)


def _log_source(config: Config, aggregate: Any, path: Path, sha256: str) -> Source:
    customers = aggregate.customers
    table = LoadedTable(frame=customers, path=path, sha256=sha256, rows_read=len(customers),
                        notes=aggregate.notes)
    return Source("transactions", table, log_config(config), _log_summary(aggregate), LOG_SCALED)
