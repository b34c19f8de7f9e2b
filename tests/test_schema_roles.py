"""Column inference (id, numeric, categorical, date, ignored with reason) and role inference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportgen.config import FeaturesConfig
from reportgen.prepare.roles import infer_roles, suggest_totals
from reportgen.prepare.schema import date_format, infer_schema, numeric_text


def _frame() -> pd.DataFrame:
    n = 60
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "CustomerID": [f"{i:04d}" for i in range(1, n + 1)],
        "Annual Income (k$)": rng.integers(15, 140, n),
        "Spending Score (1-100)": rng.integers(1, 100, n),
        "Genre": rng.choice(["Male", "Female"], n),
        "constant": 3,
        "notes": [f"free text {i}" for i in range(n)],
        "joined": pd.date_range("2020-01-01", periods=n, freq="7D").strftime("%d-%m-%Y"),
        "row": np.arange(n),
        "empty": np.nan,
    })


def test_zero_config_schema_lists_every_ignored_column_with_reason() -> None:
    schema = infer_schema(_frame(), FeaturesConfig())
    assert schema.id_column == "CustomerID"
    assert schema.numeric == ("Annual Income (k$)", "Spending Score (1-100)")
    assert schema.categorical == ("Genre",)
    assert schema.dates == (("joined", "%d-%m-%Y"),)
    assert dict(schema.ignored) == {
        "constant": "constant (always 3)",
        "notes": "near-unique text (60 distinct values in 60 rows)",
        "row": "ID-like (unique per row)",
        "empty": "all values missing",
    }


def test_config_pins_override_inference() -> None:
    features = FeaturesConfig(numeric=["Spending Score (1-100)"], exclude=["Genre"])
    schema = infer_schema(_frame(), features)
    assert schema.numeric == ("Spending Score (1-100)",)
    reasons = dict(schema.ignored)
    assert reasons["Annual Income (k$)"] == "not listed in features.numeric"
    assert reasons["Genre"] == "excluded in config"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2014-06-29", "2013-01-02"], "%Y-%m-%d"),
        (["29-06-2014", "02-01-2013"], "%d-%m-%Y"),
        (["06/29/2014", "01/02/2013"], "%m/%d/%Y"),
        (["hello", "world"], None),
        (["12", "13"], None),
    ],
)
def test_date_format(values: list[str], expected: str | None) -> None:
    assert date_format(pd.Series(values)) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1,234", "5", "12,000.5"], [1234.0, 5.0, 12000.5]),
        (["$5", "$10.50", None], [5.0, 10.5, np.nan]),
        (["12%", "7%"], [12.0, 7.0]),
    ],
)
def test_numeric_text(values: list, expected: list) -> None:
    converted = numeric_text(pd.Series(values, dtype="object"))
    assert converted is not None
    np.testing.assert_allclose(converted.to_numpy(dtype=float), expected)


def test_numeric_text_refuses_words() -> None:
    assert numeric_text(pd.Series(["a", "b"])) is None


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (["Annual Income (k$)", "Spending Score (1-100)"],
         {"income": "Annual Income (k$)", "monetary": "Spending Score (1-100)"}),
        (["Recency", "NumWebPurchases", "NumWebVisitsMonth", "NumDealsPurchases", "Complain"],
         {"recency": "Recency", "web_purchases": "NumWebPurchases", "web_visits": "NumWebVisitsMonth",
          "deal_purchases": "NumDealsPurchases", "complaints": "Complain"}),
        (["total_spend", "orders_12m", "days_since_last_order", "household_income", "children", "age"],
         {"monetary": "total_spend", "frequency": "orders_12m", "recency": "days_since_last_order",
          "income": "household_income", "children": "children", "age": "age"}),
    ],
)
def test_infer_roles(columns: list[str], expected: dict[str, str]) -> None:
    assert infer_roles(columns, {}) == expected


def test_explicit_role_wins() -> None:
    roles = infer_roles(["spend_a", "Revenue"], {"monetary": "spend_a"})
    assert roles["monetary"] == "spend_a"


def test_suggest_totals_from_parts() -> None:
    columns = ["MntWines", "MntFruits", "NumWebPurchases", "NumStorePurchases", "NumCatalogPurchases",
               "Kidhome", "Teenhome", "AcceptedCmp1", "AcceptedCmp2", "Response"]
    assert suggest_totals(columns, {}, {}) == {
        "TotalSpend": "MntWines + MntFruits",
        "TotalPurchases": "NumWebPurchases + NumStorePurchases + NumCatalogPurchases",
        "CampaignsAccepted": "AcceptedCmp1 + AcceptedCmp2 + Response",
        "Children": "Kidhome + Teenhome",
    }


def test_whole_numbers_that_identify_are_not_features() -> None:
    n = 60
    frame = pd.DataFrame({
        "member_no": np.arange(n) % 20 + 1,  # named like an id, repeated: labels, measures nothing
        "zip_code": np.arange(n) % 7 * 1000 + 10_115,
        "member": np.arange(n) % 2,  # a membership flag is a measure, whatever the word
        "account": (np.arange(n) % 30 + 10_000_000_000_000_000).astype(float),  # 17 digits, repeated
        "excel_ids": [str(12_345_678_901_234_560 + i % 9) for i in range(n)],  # long ids that collided
        "spend": np.linspace(1, 500, n),
        "visits": np.arange(n) % 7,
    })
    schema = infer_schema(frame, FeaturesConfig())
    reasons = dict(schema.ignored)
    assert set(schema.numeric) == {"member", "spend", "visits"}
    assert reasons["member_no"].startswith("named like an identifier or code") and "zip_code" in reasons
    assert reasons["account"].startswith("numbers of 16 digits or more")
    assert reasons["excel_ids"].startswith("ids of 16+ digits that repeat (9 distinct in 60 rows)")
    pinned = infer_schema(frame, FeaturesConfig(numeric=["member_no", "spend"]))
    assert pinned.numeric == ("member_no", "spend")


def test_numeric_text_keeps_long_digit_strings() -> None:
    assert numeric_text(pd.Series(["12345678901234567", "12345678901234568"])) is None
    assert numeric_text(pd.Series(["1234567890", "42"])).tolist() == [1234567890.0, 42.0]


def test_id_checked_unique_is_recorded() -> None:
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(50)], "spend": np.arange(50.0)})
    assert infer_schema(frame, FeaturesConfig()).id_unique
    repeated = frame.assign(customer_id=[f"C{i % 45}" for i in range(50)])  # a few repeats: still the id, deduped
    schema = infer_schema(repeated, FeaturesConfig())
    assert schema.id_column == "customer_id" and not schema.id_unique
    assert not infer_schema(frame, FeaturesConfig(), id_column="customer_id").id_unique  # named, never checked
