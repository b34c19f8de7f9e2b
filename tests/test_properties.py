"""Property-based tests: whatever a user feeds in, each stage ends in a result or one clean ReportgenError.

Random small tables (odd column names, mixed types, missing values, duplicates, separators, encodings) go through
the loader, the role inference and a whole run; random settings and rules through config and rulebook validation;
random text through the expression language. Any other exception, and any warning (pytest turns them into
errors), is a bug. Examples are derandomised so every run tries the same inputs; ``@example`` pins inputs that
once broke something.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from reportgen.config import Config, DataConfig, FeaturesConfig, load_config
from reportgen.describe.rules import load_rulebook
from reportgen.errors import ConfigError, ReportgenError
from reportgen.inputs.files import read_table
from reportgen.pipeline import build_report
from reportgen.prepare import expressions
from reportgen.prepare.roles import infer_roles, suggest_totals
from reportgen.prepare.schema import Schema, infer_schema

# The same examples on every run, so CI is reproducible. A longer hunt for bugs, with fresh random examples each
# time: REPORTGEN_PROPERTY_EXAMPLES=2000 python -m pytest tests/test_properties.py
EXAMPLES = int(os.environ.get("REPORTGEN_PROPERTY_EXAMPLES", "0")) or None
FAST = settings(max_examples=EXAMPLES or 60, deadline=None, derandomize=EXAMPLES is None,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=EXAMPLES or 80, deadline=None, derandomize=EXAMPLES is None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- tables --------------------------------------------------------------------------------------------------------

NAME_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
NAMES = st.one_of(
    st.sampled_from(["customer_id", "id", "Income", "MntWines", "MntFruits", "Recency", "NumWebPurchases",
                     "Kidhome", "spend", "orders", "region", "Dt_Customer", "TotalSpend", "Mnt`Odd", "Mntx`y", "", " ",
                     "الإنفاق", "הזמנות", "地域 🌏", "a,b", 'quote"d', "line\nbreak", "x" * 300, "1e5", "NaN"]),
    st.text(NAME_CHARS, max_size=12),
)
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%b %d %Y"]


def cells(kind: str) -> st.SearchStrategy[str]:
    """Cell texts of one column kind, with missing-value spellings mixed in."""
    missing = st.sampled_from(["", "NA", "N/A", "-", "null", "nan", "?"])
    values: dict[str, st.SearchStrategy[str]] = {
        "int": st.integers(-10**6, 10**6).map(str),
        "float": st.floats(allow_nan=True, allow_infinity=True).map(repr),
        "huge": st.sampled_from(["1e308", "-1e308", "inf", "-inf", "1.7976931348623157e308", "123456789012345678901"]),
        "money": st.integers(0, 10**7).map(lambda n: f"${n:,}"),
        "percent": st.integers(0, 100).map(lambda n: f"{n}%"),
        "text": st.text(NAME_CHARS, max_size=10),
        "level": st.sampled_from(["North", "South", "East", "Zürich", "Málaga"]),
        "date": st.tuples(st.dates(date(1900, 1, 1), date(2100, 1, 1)), st.sampled_from(DATE_FORMATS))
        .map(lambda d: d[0].strftime(d[1])),
        "bad-date": st.sampled_from(["2023-02-30", "2023-13-01", "0000-00-00", "9999-12-31", "0001-01-01"]),
        "bool": st.sampled_from(["True", "False", "true", "0", "1"]),
        "id": st.integers(0, 50).map(lambda n: f"C{n:04d}"),
    }
    return st.one_of(values[kind], values[kind], values[kind], missing)


KINDS = ["int", "float", "huge", "money", "percent", "text", "level", "date", "bad-date", "bool", "id"]


@st.composite
def tables(draw: st.DrawFn, min_rows: int = 0, max_rows: int = 30,
           first: tuple[str, ...] = ()) -> tuple[list[str], list[list[str]]]:
    """A header and rows of cell texts: ``first`` then up to 6 columns of random kinds, ``min_rows`` to
    ``max_rows`` rows."""
    kinds = [*first, *draw(st.lists(st.sampled_from(KINDS), min_size=0 if first else 1, max_size=6))]
    names = [draw(NAMES) for _ in kinds]
    n = draw(st.integers(min_rows, max_rows))
    rows = [[draw(cells(kind)) for kind in kinds] for _ in range(n)]
    if rows and draw(st.booleans()):
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))  # repeated rows and ids
    return names, rows


def csv_bytes(names: list[str], rows: list[list[str]], sep: str, encoding: str, newline: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator=newline).writerows([names, *rows])
    return buffer.getvalue().encode(encoding, errors="replace")


FILE_STYLE = st.tuples(st.sampled_from([",", ";", "\t", "|"]), st.sampled_from(["utf-8", "utf-8-sig", "utf-16",
                                                                                  "cp1252"]),
                       st.sampled_from(["\n", "\r\n"]))


@contextmanager
def folder() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="reportgen-props-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def frame_of(names: list[str], rows: list[list[str]]) -> pd.DataFrame:
    """The table as the loader would give it, built without the loader: numbers where a column is all numbers."""
    unique: list[str] = []
    for n, name in enumerate(names, start=1):
        name = re.sub(r"\s*[\r\n]+\s*", " ", name.strip()) or f"column_{n}"  # as the loader names them
        unique.append(name if name not in unique else f"{name}#{n}")
    frame = pd.DataFrame(rows, columns=unique, dtype=object) if rows else pd.DataFrame(columns=unique)
    for column in frame.columns:
        values = frame[column].replace({"": None, "NA": None, "N/A": None, "-": None, "null": None, "?": None})
        numbers = pd.to_numeric(values, errors="coerce")
        frame[column] = numbers if numbers.notna().sum() == values.notna().sum() else values.astype("str")
    return frame


# --- loader --------------------------------------------------------------------------------------------------------


@FAST
@given(table=tables(), style=FILE_STYLE, configured_sep=st.sampled_from([None, None, ",", ";", "tab"]))
def test_loader_reads_or_refuses_cleanly(table: tuple[list[str], list[list[str]]], style: tuple[str, str, str],
                                         configured_sep: str | None) -> None:
    names, rows = table
    with folder() as tmp:
        path = tmp / "data.csv"
        path.write_bytes(csv_bytes(names, rows, *style))
        try:
            loaded = read_table(path, DataConfig(sep=configured_sep))
        except ReportgenError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path)), str(exc)
            return
    assert loaded.rows_read == len(loaded.frame) > 0
    assert len(set(loaded.frame.columns)) == loaded.frame.shape[1]


@FAST
@given(content=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8", "replace"))),
       suffix=st.sampled_from([".csv", ".tsv", ".txt", ".csv.gz", ".parquet", ".xlsx", ".bin"]))
@example(content=b"\x1f\x8b\x08\x00", suffix=".bin")
@example(content=b"PAR1\x00\x00", suffix=".parquet")
@example(content=b"a\x00b\x00\n\x001\x00", suffix=".csv")
def test_loader_on_arbitrary_bytes(content: bytes, suffix: str) -> None:
    with folder() as tmp:
        path = tmp / f"data{suffix}"
        path.write_bytes(content)
        try:
            read_table(path, DataConfig())
        except ReportgenError as exc:
            assert "\n" not in str(exc), str(exc)


# --- role inference ------------------------------------------------------------------------------------------------


COLUMN = st.integers(0, 6)  # a column by position; past the last one it stands for a name not in the data
CHOICES = st.fixed_dictionaries({
    "exclude": st.lists(COLUMN, max_size=2), "numeric": st.none() | st.lists(COLUMN, max_size=3),
    "categorical": st.none() | st.lists(COLUMN, max_size=2), "id": st.none() | COLUMN,
    "date": st.none() | st.tuples(COLUMN, st.sampled_from([*DATE_FORMATS, "%Q", "%Y-%"])),
    "monetary": st.none() | COLUMN, "recency": st.none() | COLUMN,
})


@FAST
@given(table=tables(), max_categories=st.integers(2, 25), choices=CHOICES)
# An invalid strftime directive in data.date_formats escaped as pandas' ValueError.
@example(table=(["", ""], [["Zürich", "1e308"], ["North", "1e308"], ["", "1e308"]]), max_categories=2,
         choices={"exclude": [], "numeric": None, "categorical": None, "id": None, "date": (0, "%Q"),
                  "monetary": None, "recency": None})
def test_schema_and_roles_are_inferred_or_refused(table: tuple[list[str], list[list[str]]], max_categories: int,
                                                  choices: dict[str, Any]) -> None:
    names, rows = table
    frame = frame_of(names, rows)
    columns = [str(c) for c in frame.columns]

    def name(position: int | None) -> str | None:
        return None if position is None else columns[position] if position < len(columns) else "not-a-column"

    def names_of(positions: list[int] | None) -> list[str] | None:
        return None if positions is None else [str(name(p)) for p in positions]

    features = FeaturesConfig(max_categories=max_categories, exclude=names_of(choices["exclude"]),
                              numeric=names_of(choices["numeric"]), categorical=names_of(choices["categorical"]))
    date = choices["date"]
    date_formats = {str(name(date[0])): date[1]} if date else {}
    try:
        schema = infer_schema(frame, features, name(choices["id"]), date_formats)
    except ConfigError as exc:
        assert all("\n" not in problem and problem.startswith("Config value '") for problem in exc.problems)
        return
    assert isinstance(schema, Schema)
    placed = [schema.id_column, *schema.numeric, *schema.categorical, *(c for c, _ in schema.dates),
              *(c for c, _ in schema.ignored)]
    assert sorted(str(c) for c in placed if c is not None) == sorted(columns)  # each column has one place
    explicit = {"monetary": name(choices["monetary"]), "recency": name(choices["recency"])}
    roles = infer_roles(schema.numeric, explicit)
    inferred = [column for role, column in roles.items() if not explicit.get(role)]
    assert len(set(inferred)) == len(inferred) and not set(inferred) & set(explicit.values())
    for total, formula in suggest_totals(schema.numeric, explicit, {}).items():
        parsed = expressions.parse(formula)  # a suggested total must be a formula reportgen itself accepts
        assert parsed.names <= set(schema.numeric), (total, formula)


@example(numeric=["Mntx`y", "MntFruits", "MntMeat"])
@given(numeric=st.lists(st.one_of(st.sampled_from(["MntWines", "MntFruits", "Mnt`Odd", "MntGold Prods",
                                                     "NumWebPurchases", "NumStorePurchases", "Kidhome", "Teenhome",
                                                     "AcceptedCmp1", "AcceptedCmp2", "Mnt Fish`"]), NAMES),
                        unique=True, max_size=8))
@FAST
def test_suggested_totals_always_parse(numeric: list[str]) -> None:
    for name, formula in suggest_totals(numeric, {}, {}).items():
        assert expressions.parse(formula).names <= set(numeric), (name, formula)


# --- config --------------------------------------------------------------------------------------------------------


def _keys(model: Any, prefix: str = "") -> list[str]:
    keys = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            keys += _keys(annotation, f"{prefix}{name}.")
        elif name != "base_dir":
            keys.append(prefix + name)
    return keys


CONFIG_KEYS = _keys(Config)
SECTION_KEYS = [k.split(".", 1)[1] for k in CONFIG_KEYS if "." in k]  # keys within a [section]
TOML_SCALARS = st.one_of(
    st.integers(-(2**63), 2**63 - 1), st.floats(), st.booleans(), st.text(max_size=12),
    st.sampled_from(["auto", "off", "keep-first", "error", "median", "iqr", "#1f5f8b", "A4", "pdf", "2GB", "12M"]),
    st.dates(), st.datetimes(), st.times(),
)
TOML_VALUES = st.recursive(TOML_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)
TYPO = st.sampled_from(CONFIG_KEYS).flatmap(lambda key: st.sampled_from([key + "s", key[:-1], key.replace(".", "_"),
                                                                         key.upper(), key + ".extra"]))
DOTTED_KEYS = st.one_of(st.sampled_from(CONFIG_KEYS), st.sampled_from(CONFIG_KEYS), TYPO,
                        st.text(max_size=8), st.sampled_from(["data", "segmentation", "base_dir", "", "."]))


@FAST
@given(overrides=st.dictionaries(DOTTED_KEYS, TOML_VALUES, max_size=4))
@example(overrides={"segmentation.k": "x", "segmentation.kk": 3, "report.accent_color": 5})
@example(overrides={"cleaning.quantiles": [0.9, 0.1], "segmentation": 3})
@example(overrides={"data.date_formats": {"a": 1}, "features.derived": {"x": ["a"]}})
def test_config_validates_or_lists_every_problem(overrides: dict[str, Any]) -> None:
    try:
        config = load_config(None, overrides)
    except ConfigError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.startswith(("Config value '", "Config key '")), problem
        return
    assert isinstance(config, Config)


def toml_value(value: Any) -> str:
    """A TOML literal for the scalars, lists and tables the strategies make (JSON strings are TOML strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(map(toml_value, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


@FAST
@given(sections=st.dictionaries(st.sampled_from(["data", "features", "cleaning", "segmentation", "report", "output",
                                                  "sgementation", "x"]),
                                st.dictionaries(st.one_of(st.sampled_from(SECTION_KEYS),
                                                          st.text(max_size=6)), TOML_VALUES, max_size=3),
                                max_size=3),
       junk=st.sampled_from(["", "", "[broken\n", "k = \n", "= 1\n"]))
def test_config_file_validates_or_names_the_file(sections: dict[str, dict[str, Any]], junk: str) -> None:
    text = "".join(f"[{name}]\n" + "".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in body.items())
                   for name, body in sections.items()) + junk
    with folder() as tmp:
        path = tmp / "reportgen.toml"
        path.write_text(text, encoding="utf-8")
        try:
            load_config(path)
        except ConfigError as exc:
            assert str(exc).startswith(str(path)), str(exc)


# --- expressions and rules -----------------------------------------------------------------------------------------

TOKENS = st.sampled_from(["a", "b", "z_monetary", "size", "share", "`Annual Income (k$)`", "`x`", "`", "1", "0",
                          "2.5", "1e308", "-", "+", "*", "/", "//", "%", "**", "(", ")", ",", "abs", "min", "max",
                          "log", "sqrt", "and", "or", "not", "<", "<=", "==", "!=", ">=", "'Champions'", "true",
                          "__import__", ".", "__class__", "[", "]", "lambda", ":", "if", "else", "~", "@", "100",
                          "1000", "9" * 400])
EXPRESSIONS = st.one_of(st.lists(TOKENS, max_size=12).map(" ".join), st.text(max_size=40))
ENV_VALUES = st.one_of(st.floats(), st.integers(-10**20, 10**20), st.sampled_from(["Champions", ""]),
                       st.lists(st.floats(), min_size=3, max_size=3).map(np.array))


@FAST
@given(text=EXPRESSIONS, conditions=st.booleans(),
       env=st.dictionaries(st.sampled_from(["a", "b", "z_monetary", "size", "share", "Annual Income (k$)", "x"]),
                           ENV_VALUES))
@example(text="a ** b", conditions=False, env={"a": 10.0, "b": np.array([1e6, 2.0, 3.0])})
@example(text="min(a, 'x')", conditions=True, env={"a": 1.0})
@example(text="(" * 120 + "a" + ")" * 120, conditions=False, env={"a": 1.0})
def test_expressions_parse_and_evaluate_or_refuse(text: str, conditions: bool, env: dict[str, Any]) -> None:
    try:
        parsed = expressions.parse(text, conditions=conditions)
        parsed.evaluate(env)
    except expressions.ExpressionError as exc:
        assert "\n" not in str(exc)


RULE_FIELDS = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.sampled_from(["r1", "r2", "bad id", ""]), st.text(max_size=6), st.integers()),
    "title": st.one_of(st.just("Title"), st.text(max_size=6), st.integers()),
    "when": st.one_of(EXPRESSIONS, st.sampled_from(["z_monetary >= 0.5", "share > 0.1 and z_recency < 0",
                                                     "z_spend > 1", "true"]), st.integers()),
    "action": st.one_of(st.sampled_from(["Do {{ segment }}", "{{ mean_monetary | money }}", "{{ ", "{{ x }}",
                                         "{{ ''.__class__ }}", "{{ 2 ** 1000 }}",
                                         "{% for i in range(10**9) %}{% endfor %}"]), st.text(max_size=20)),
    "rationale": st.one_of(st.just("Because."), st.text(max_size=6)),
    "priority": st.one_of(st.integers(-2, 7), st.sampled_from(["high", 1.5, True])),
    "fallback": st.one_of(st.booleans(), st.just("yes")),
    "colour": st.just("red"),
})


@FAST
@given(rules=st.lists(RULE_FIELDS, max_size=4), mode=st.sampled_from(["replace", "extend"]))
@example(rules=[{"id": "w", "title": "T", "action": "A", "rationale": "R", "priority": 5, "fallback": True}],
         mode="replace")
# A rule id holding a line break broke the one-line error that names the rule.
@example(rules=[{"id": "\n"}, {"id": "two\nlines", "title": "T"}], mode="replace")
def test_rulebook_loads_or_lists_every_problem(rules: list[dict[str, Any]], mode: str) -> None:
    text = "".join("[[rule]]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in rule.items()) for rule in rules)
    with folder() as tmp:
        path = tmp / "rules.toml"
        path.write_text(text, encoding="utf-8")
        try:
            rulebook = load_rulebook(path, mode)
        except ConfigError as exc:
            assert exc.problems and all("\n" not in problem for problem in exc.problems), exc.problems
            return
    assert sum(rule.fallback for rule in rulebook.rules) == 1


# --- a whole run ---------------------------------------------------------------------------------------------------


TWEAKS = st.lists(st.sampled_from([
    {"features.derived": {"Ratio": "`{1}` / `{2}`"}}, {"features.derived": {"Sum": "{1} + {2}", "Twice": "Sum * 2"}},
    {"features.derived": {"Bad": "{1} ** 1000"}}, {"features.derived": {"{1}": "{2} + 1"}},
    {"features.roles.monetary": "{1}"}, {"features.roles.recency": "{2}"}, {"features.numeric": ["{1}", "{2}"]},
    {"features.numeric": ["{1}", "absent"]}, {"features.categorical": ["{0}"]}, {"features.exclude": ["{2}"]},
    {"data.id_column": "{0}"}, {"data.duplicate_ids": "error"}, {"data.date_formats": {"{1}": "%Y-%m-%d"}},
    {"cleaning.numeric_missing": "drop"}, {"cleaning.categorical_missing": "drop"}, {"cleaning.outliers": "quantile"},
    {"cleaning.ranges": {"{1}": {"min": 0, "action": "drop"}}}, {"cleaning.merge": {"{0}": {"C0001": "C0002"}}},
    {"segmentation.scaling": "robust"}, {"segmentation.pca": 0.9}, {"segmentation.log_features": ["{2}"]},
    {"segmentation.min_segment_share": 0.3},
]), max_size=3) | st.just([])


def fill(value: Any, names: list[str]) -> Any:
    """``value`` with ``{0}``, ``{1}``, ``{2}`` replaced by the table's column names."""
    if isinstance(value, str):
        for i, name in enumerate(names[:3]):
            value = value.replace(f"{{{i}}}", name)
        return value
    if isinstance(value, list):
        return [fill(item, names) for item in value]
    if isinstance(value, dict):
        return {fill(key, names): fill(item, names) for key, item in value.items()}
    return value


@SLOW
@given(table=tables(min_rows=3, max_rows=40, first=("id", "int", "float")), style=FILE_STYLE,
       k=st.sampled_from(["auto", 2, 3]), tweaks=TWEAKS)
@example(table=(["customer_id", "spend", "orders"], [[f"C{i}", str(i * 10), str(i % 4)] for i in range(12)]),
         style=(",", "utf-8", "\n"), k=2, tweaks=[{"features.derived": {"Ratio": "`{1}` / `{2}`"}}])
# Money text with a gap became a nullable integer column, which refused the imputed median (0.5).
@example(table=(["customer_id", "Income"], [["0", "$0"], ["0", ""], ["0", "$1"]]), style=(",", "utf-8", "\n"),
         k="auto", tweaks=[])
# The TotalSpend suggested from the Mnt* parts replaced a text column of that name, which was also categorical.
@example(table=(["customer_id", "MntWines", "MntFruits", "TotalSpend"],
                [[f"C{i}", str(i * 7 % 50), str(i * 3 % 20), ["low", "high"][i % 2]] for i in range(12)]),
         style=(",", "utf-8", "\n"), k=2, tweaks=[])
def test_a_whole_run_succeeds_or_writes_nothing(table: tuple[list[str], list[list[str]]], style: tuple[str, str, str],
                                                k: str | int, tweaks: list[dict[str, Any]]) -> None:
    names, rows = table
    with folder() as tmp:
        path = tmp / "data.csv"
        path.write_bytes(csv_bytes(names, rows, *style))
        out = tmp / "out"
        overrides = {"data.path": str(path), "output.dir": str(out), "output.formats": ["json", "csv"],
                     "segmentation.k": k, "segmentation.n_init": 2}
        for tweak in tweaks:
            overrides |= fill(tweak, names)
        try:
            outcome = build_report(load_config(None, overrides))
        except ReportgenError as exc:
            event(f"refused: {type(exc).__name__}")
            assert "\n" not in str(exc), str(exc)
            assert not out.exists()
            assert sorted(p.name for p in tmp.iterdir()) == ["data.csv"]  # no staging folder left behind
            return
        event("report written")
        assert (out / "summary.json").is_file() and (out / "segments.csv").is_file()
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        assert summary["data"]["rows_segmented"] == len(outcome.analysis.customers.ids)

