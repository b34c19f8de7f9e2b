"""Column understanding of unseen tables: roles in any naming style, labels, units, codes, flags, sentinels, leaks,
near-duplicates; plain words; targets and value at stake."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reportgen.describe.plain import stat_text, value_text
from reportgen.describe.stakes import rank, target_masks
from reportgen.prepare.colnames import derived_label, feature_labels, tokens, unit_kind
from reportgen.prepare.columns import coded_categories, flags, id_column, leaks, near_duplicates, sentinels
from reportgen.prepare.roles import infer_roles, infer_roles_explained
from reportgen.result import FeatureStat, Recommendation


@pytest.mark.parametrize(("name", "expected"), [
    ("NumWebVisitsMonth", ["num", "web", "visits", "month"]),
    ("Total_Amt_Chng_Q4_Q1", ["total", "amt", "chng", "q4", "q1"]),
    ("MONTHLY_CHARGES", ["monthly", "charges"]),
    ("order.count", ["order", "count"]),
    ("Annual Income (k$)", ["annual", "income", "k"]),
])
def test_tokens_in_any_style(name: str, expected: list[str]) -> None:
    assert tokens(name) == expected


@pytest.mark.parametrize(("name", "expected"), [
    ("Total_Trans_Amt", "Total transaction amount"),
    ("MntWines", "Amount spent on wines"),
    ("NumWebVisitsMonth", "Number of web visits per month"),
    ("Months_Inactive_12_mon", "Months inactive (last 12 months)"),
    ("Total_Ct_Chng_Q4_Q1", "Total count change Q4 vs Q1"),
    ("Avg_Utilization_Ratio", "Average utilization ratio"),
    ("Total_Revolving_Bal", "Total revolving balance"),
    ("Spending Score (1-100)", "Spending score (1-100)"),
    ("Annual Income ($)", "Annual income"),
    ("PctDiscount", "Percent discount"),
])
def test_labels_expand_abbreviations(name: str, expected: str) -> None:
    assert derived_label(name) == expected


def test_configured_label_wins_and_labels_are_unique() -> None:
    labels = feature_labels(["MntWines", "Dt_Customer_days", "a_b", "A B"], {"MntWines": "Wine spend"},
                            {"tenure": "Dt_Customer_days"})
    assert labels["MntWines"] == "Wine spend" and labels["Dt_Customer_days"] == "Days as a customer"
    assert len(set(labels.values())) == 4


@pytest.mark.parametrize(("columns", "expected"), [
    # banking / credit cards
    (["Customer_Age", "Months_on_book", "Months_Inactive_12_mon", "Contacts_Count_12_mon", "Credit_Limit",
      "Total_Revolving_Bal", "Total_Trans_Amt", "Total_Trans_Ct", "Avg_Utilization_Ratio", "Total_Amt_Chng_Q4_Q1",
      "Total_Relationship_Count"],
     {"age": "Customer_Age", "tenure": "Months_on_book", "recency": "Months_Inactive_12_mon",
      "contacts": "Contacts_Count_12_mon", "credit_limit": "Credit_Limit", "balance": "Total_Revolving_Bal",
      "monetary": "Total_Trans_Amt", "frequency": "Total_Trans_Ct", "utilization": "Avg_Utilization_Ratio",
      "products": "Total_Relationship_Count"}),
    # telecom, CamelCase: the total is preferred over the monthly figure
    (["tenure", "MonthlyCharges", "TotalCharges", "CustomerServiceCalls"],
     {"tenure": "tenure", "monetary": "TotalCharges", "contacts": "CustomerServiceCalls"}),
    # retail, ALL_CAPS and dotted
    (["DAYS_SINCE_LAST_ORDER", "order.count", "SALES_TOTAL", "CUSTOMER.SINCE.DAYS"],
     {"recency": "DAYS_SINCE_LAST_ORDER", "frequency": "order.count", "monetary": "SALES_TOTAL",
      "tenure": "CUSTOMER.SINCE.DAYS"}),
    # credit-card default data
    (["LIMIT_BAL", "AGE", "BILL_AMT1", "PAY_AMT1"], {"credit_limit": "LIMIT_BAL", "age": "AGE",
                                                      "monetary": "BILL_AMT1"}),
    # survey / shop: a score is value only when nothing names spend
    (["Age", "Annual Salary", "Satisfaction Score", "Household Size", "Work Experience"],
     {"age": "Age", "income": "Annual Salary", "monetary": "Satisfaction Score", "children": "Household Size",
      "experience": "Work Experience"}),
])
def test_roles_from_a_broad_vocabulary(columns: list[str], expected: dict[str, str]) -> None:
    assert infer_roles(columns, {}) == expected


def test_role_reasons_and_overrides() -> None:
    explained = infer_roles_explained(["Spending Score (1-100)", "Revenue"], {"income": "Revenue"})
    assert explained["income"] == ("Revenue", "set in the config (features.roles)")
    assert explained["monetary"][0] == "Spending Score (1-100)" and "score" in explained["monetary"][1]


def test_unit_kinds_follow_the_role() -> None:
    assert unit_kind("Total_Trans_Amt", "monetary") == "currency"
    assert unit_kind("Spending Score (1-100)", "monetary") == "points"
    assert unit_kind("Months_Inactive_12_mon", "recency") == "months"
    assert unit_kind("Recency", "recency") == "days"
    assert unit_kind("tenure", "tenure", max_value=72) == "months"
    assert unit_kind("Avg_Utilization_Ratio", "utilization", max_value=0.99) == "share"
    assert unit_kind("Total_Trans_Ct", "frequency") == "count"
    assert unit_kind("Complain", "complaints", flag=True) == "share"
    assert unit_kind("Total_Ct_Chng_Q4_Q1", None, max_value=3.7) == "number"


def _wholesale() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 400
    return pd.DataFrame({
        "Channel": rng.integers(1, 3, n), "Region": rng.integers(1, 4, n), "Fresh": rng.gamma(2, 5000, n),
        "Family_Size": rng.integers(1, 6, n), "opted_in": rng.integers(0, 2, n),
        "pdays": np.where(rng.random(n) < 0.8, 999, rng.integers(0, 27, n)),
        "balance_delta": np.where(rng.random(n) < 0.1, -1, rng.integers(0, 50, n)),
        "churn_probability": rng.random(n), "Churn": rng.integers(0, 2, n),
    })


def test_codes_flags_sentinels_and_leaks() -> None:
    frame = _wholesale()
    coded = coded_categories(frame, frame.columns)
    assert set(coded) == {"Channel", "Region"} and "coded category: 3 whole-number levels (1, 2, 3)" in coded["Region"]
    assert flags(frame, frame.columns) == {"opted_in", "Churn"}
    found = sentinels(frame, frame.columns)
    assert found["pdays"][0] == 999 and found["balance_delta"][0] == -1 and set(found) == {"pdays", "balance_delta"}
    leaked = leaks(frame.columns)
    assert set(leaked) == {"churn_probability", "Churn"} and "model's output" in leaked["churn_probability"]


def test_near_duplicates_drop_the_column_without_a_role() -> None:
    rng = np.random.default_rng(1)
    limit = rng.uniform(1000, 30000, 500).round(1)
    balance = (limit * rng.uniform(0, 1, 500)).round(1)
    frame = pd.DataFrame({"Credit_Limit": limit, "Revolving_Bal": balance, "Open_To_Buy": limit - balance,
                          "spend": rng.gamma(2, 100, 500), "spend_cents": 0.0})
    frame["spend_cents"] = frame["spend"] * 100
    found = near_duplicates(frame, list(frame.columns), {"credit_limit": "Credit_Limit", "balance": "Revolving_Bal",
                                                          "monetary": "spend"})
    assert set(found) == {"Open_To_Buy", "spend_cents"}
    assert "equals Credit limit − Revolving balance" in found["Open_To_Buy"]


def test_customer_number_is_the_id() -> None:
    frame = pd.DataFrame({"CLIENTNUM": [708082083, 818770008, 713982108], "x": [1, 2, 3]})
    assert id_column(frame, frame.columns) == "CLIENTNUM"


def test_plain_words() -> None:
    stat = FeatureStat("Recency", "recency", 460.0, 450.0, 40.0, 30.0, 2.5)
    assert stat_text(stat, "Days since last purchase", "days") == \
        "Days since last purchase 11.5× the average (460 days vs 40 days)"
    assert value_text(0.125, "share") == "12.5%" and value_text(1520, "currency", "€") == "€1,520"
    low = FeatureStat("spend", "monetary", 40.0, 35.0, 100.0, 50.0, -1.2)
    assert stat_text(low, "Total spend", "currency") == "Total spend less than half the average ($40.00 vs $100)"


def test_targets_size_part_of_a_segment_and_rank_by_value() -> None:
    frame = pd.DataFrame({"recency": [10.0, 200, 300, 5, 400, 20], "spend": [100.0, 900, 50, 10, 20, 30]})
    labels = np.array([0, 0, 0, 1, 1, 1])
    masks = target_masks(frame, {"recency": "recency", "monetary": "spend"}, labels)
    assert masks[(0, "lapsed")].tolist() == [False, True, True, False, False, False]
    recs = [Recommendation("win-back", 0, "A", "Win back", "act", "why", 1, 3, ()),
            Recommendation("grow", 1, "B", "Grow", "act", "why", 4, 3, ()),
            Recommendation("vip", 0, "A", "VIP", "act", "why", 3, 3, ())]
    ranked, rows = rank(recs, masks, labels, frame["spend"].to_numpy(), {"win-back": "lapsed"})
    assert [r.rule_id for r in ranked] == ["vip", "win-back", "grow"]  # 1,050 then 950 then 60 at stake
    win_back = ranked[1]
    assert (win_back.audience, win_back.value_at_stake, win_back.lead) == (2, 950.0, False)
    assert win_back.target.startswith("inactive for longer") and rows[win_back.audience_file].tolist() == [1, 2]
    assert ranked[0].lead and ranked[2].lead
