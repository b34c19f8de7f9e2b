"""Find how a log writes its dates, from the values: ISO, integers (``19970101``), ``11-Feb-13``, ``M/D/YYYY`` …

Each candidate strftime format is tried, by DuckDB itself (the engine that will parse the whole column), on the
distinct values of the sample; the first that reads all of them, with years between 1900 and 2100, wins. When
only the order of day and month is left open (``1/3/2014``), the whole column decides: a value above 12 in one
place can only be a day. If no value tells, month-first is taken for slashes (the US habit) and day-first for
dots and dashes, and the note says so; ``transactions.timestamp_format`` overrides all of this.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

_DATES = ["%Y%m%d", "%d-%b-%y", "%d-%b-%Y", "%d %b %y", "%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y",
          "%b %d %Y", "%d-%B-%Y", "%m/%d/%y", "%d/%m/%y", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%y", "%d.%m.%Y",
          "%d-%m-%y", "%m-%d-%y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d%H%M%S"]
_TIMES = ["", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p", "T%H:%M:%S"]
CANDIDATES = [d + t for d, t in product(_DATES, _TIMES) if not (d == "%Y%m%d%H%M%S" and t)]
_EXAMPLES = {"%Y%m%d": "YYYYMMDD", "%d-%b-%y": "DD-Mon-YY", "%m/%d/%Y": "M/D/YYYY", "%d/%m/%Y": "D/M/YYYY",
             "%m/%d/%y": "M/D/YY", "%d/%m/%y": "D/M/YY"}


@dataclass(frozen=True)
class DateFormat:
    """How the timestamp column is parsed: ``format`` None means ISO (cast), else a strftime format."""

    format: str | None
    note: str


def swapped(fmt: str) -> str:
    """The format with day and month exchanged (``%m/%d/%Y`` ↔ ``%d/%m/%Y``)."""
    return fmt.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")


def _label(fmt: str) -> str:
    return _EXAMPLES.get(fmt, fmt)


def detect_format(con: duckdb.DuckDBPyConnection, values: list[str], column: str,
                  misses: Callable[[str], int]) -> DateFormat | None:
    """The format of a log's timestamp column, from ``values`` (its sampled cells).

    Parameters
    ----------
    con
        A DuckDB connection to try the formats with.
    values
        Non-blank sampled values of the column.
    column
        Its name, for the note.
    misses
        Counts the values of the whole column that a format does not read; asked only when the sample leaves
        the order of day and month open.

    Returns
    -------
    DateFormat | None
        None when no format reads every sampled value (the caller reports one that fails).
    """
    distinct = sorted(set(values))[:20000]
    if not distinct:
        return DateFormat(None, f"dates: column {column!r} has no values in the sample; read as ISO dates")
    def failures(parsed: list[str]) -> tuple[int, ...]:
        checks = [f"count(*) FILTER (year({p}) IS NULL OR year({p}) NOT BETWEEN 1900 AND 2100)" for p in parsed]
        return con.execute(f"SELECT {', '.join(checks)} FROM (SELECT unnest(?::VARCHAR[]) AS v)", [distinct]).fetchone()

    if failures(["TRY_CAST(v AS TIMESTAMP)"])[0] == 0:
        return DateFormat(None, f"dates: column {column!r} read as ISO dates (YYYY-MM-DD[ HH:MM[:SS]])")
    failed = failures([f"TRY_STRPTIME(v, '{f}')" for f in CANDIDATES])
    fitting = [f for f, n in zip(CANDIDATES, failed, strict=True) if n == 0]
    if not fitting:
        return None
    fmt = fitting[0]
    how = f"dates: column {column!r} read as {_label(fmt)} ({fmt})"
    if swapped(fmt) == fmt or swapped(fmt) not in fitting:
        if swapped(fmt) in CANDIDATES and swapped(fmt) != fmt:
            how += (", month first: some values have a day above 12 second" if fmt.index("%m") < fmt.index("%d")
                    else ", day first: some values have a day above 12 first")
        elif "%d" in fmt and "%m" in fmt and fmt.index("%d") < fmt.index("%m"):
            how += ", day first (the order dates with dots are written in)"
        return DateFormat(fmt, how)
    # Day and month both ≤ 12 in every sampled value: the whole column decides.
    month_first = fmt if fmt.index("%m") < fmt.index("%d") else swapped(fmt)
    day_first = swapped(month_first)
    bad_month_first, bad_day_first = misses(month_first), misses(day_first)
    if bad_month_first == 0 and bad_day_first > 0:
        return DateFormat(month_first, f"dates: column {column!r} read as {_label(month_first)} ({month_first}), "
                                       "month first: some values have a day above 12 second")
    if bad_day_first == 0 and bad_month_first > 0:
        return DateFormat(day_first, f"dates: column {column!r} read as {_label(day_first)} ({day_first}), "
                                     "day first: some values have a day above 12 first")
    chosen = month_first if "/" in fmt else day_first
    first = "month" if chosen == month_first else "day"
    return DateFormat(chosen, f"dates: column {column!r} read as {_label(chosen)} ({chosen}); no value has a number "
                              f"above 12 that would tell day from month, so {first} first was assumed (set "
                              f"transactions.timestamp_format = '{swapped(chosen)}' if not)")
