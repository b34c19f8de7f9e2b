"""End-to-end analysis on the bundled sample data and the real datasets (no rendering here)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from reportgen.config import load_config
from reportgen.pipeline import analyse
from reportgen.resources import sample_data_dir

REPO = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def sample_analysis():
    return analyse(load_config(sample_data_dir() / "reportgen.toml"))


def test_sample_data_recovers_latent_groups(sample_analysis) -> None:
    result, customers = sample_analysis.result, sample_analysis.customers
    assert result.k_selection.chosen_k == 5
    truth = pd.read_csv(sample_data_dir() / "latent_groups.csv", dtype=str).set_index("customer_id")["group"]
    found = pd.Series(customers.segment, index=customers.ids)
    assert adjusted_rand_score(truth.loc[found.index], found) > 0.85


def test_sample_result_is_complete(sample_analysis) -> None:
    result = sample_analysis.result
    assert result.customers == 3000 == sum(s.size for s in result.segments)
    names = [s.name for s in result.segments]
    assert len(set(names)) == len(names) and "Affluent big spenders" in names
    assert [s.size for s in result.segments] == sorted((s.size for s in result.segments), reverse=True)
    assert abs(sum(s.value_share for s in result.segments) - 1) < 1e-9
    assert len({s.color for s in result.segments}) == len(result.segments)
    for segment in result.segments:
        assert segment.recommendations, segment.name
        assert segment.traits and segment.name_reason
        assert {st.feature for st in segment.stats} == set(result.data.numeric_features)
        for rec in segment.recommendations:
            assert rec.audience == segment.size and rec.action
            assert rec.fallback or rec.evidence
    assert 3 <= len(result.highlights) <= 5
    assert dict(result.roles)["monetary"] == "total_spend"
    assert len(result.segment_map.points) == 1000


def test_profiles_are_business_units_not_scaled(sample_analysis) -> None:
    result = sample_analysis.result
    frame = pd.read_csv(sample_data_dir() / "customers.csv")
    base = next(st for st in result.segments[0].stats if st.feature == "orders_12m").base_mean
    assert base == pytest.approx(frame["orders_12m"].mean(), rel=0.05)


def test_mall_customers_five_groups(datasets_dir: Path) -> None:
    result = analyse(load_config(REPO / "examples" / "mall_customers.toml")).result
    assert result.k_selection.chosen_k == 5
    assert sorted(s.size for s in result.segments) == [22, 23, 35, 39, 81]
    assert {s.name for s in result.segments} >= {"Affluent big spenders", "Affluent but cautious",
                                                  "Budget big spenders", "Budget-conscious"}


def test_marketing_campaign_example_config(datasets_dir: Path) -> None:
    result = analyse(load_config(REPO / "examples" / "marketing_campaign.toml")).result
    quality = result.data
    assert quality.rows_read == 2240
    assert {c.label: c.count for c in quality.exclusions} == {"Year_Birth outside plausible range": 3}
    actions = {(a.column, a.action): a.count for a in quality.actions}
    assert actions[("Income", "out of plausible range → missing")] == 1  # the 666,666 income
    assert actions[("Income", "missing → median")] == 25  # 24 blanks + the outlier
    assert actions[("Marital_Status", "merged categories")] == 580 + 3 + 2 + 2
    assert dict(quality.derived)["Age"] == "2014 - Year_Birth"
    assert dict(result.roles)["monetary"] == "TotalSpend"
    # Merges shape what the model sees; the report's composition shows the levels as the data has them.
    marital = {c.level for s in result.segments for c in s.categories if c.column == "Marital_Status"}
    assert marital >= {"Together", "Married", "Single"}


def test_marketing_campaign_zero_config(datasets_dir: Path) -> None:
    config = load_config(None, {"data.path": str(datasets_dir / "marketing_campaign.csv")})
    result = analyse(config).result
    ignored = {c.name: c.reason for c in result.data.columns if c.kind == "ignored"}
    assert {k: v for k, v in ignored.items() if k.startswith("Z_")} == {"Z_CostContact": "constant (always 3)",
                                                                         "Z_Revenue": "constant (always 11)"}
    # The campaign flags are counted in the derived total instead; a complaint flag on 0.9% of customers would
    # only cut those out into a segment of their own.
    flags = [f"AcceptedCmp{i}" for i in range(1, 6)] + ["Response"]
    assert all("counted in the derived total CampaignsAccepted" in ignored[f] for f in flags)
    assert ignored["Complain"].startswith("rare 0/1 flag (0.9% of customers)")
    assert set(ignored) == {"Z_CostContact", "Z_Revenue", "Complain", *flags}
    assert result.data.id_column == "ID"
    assert "Dt_Customer_days" in result.data.numeric_features
    assert dict(result.data.derived)["TotalSpend"].startswith("MntWines + MntFruits")
    assert dict(result.roles)["monetary"] == "TotalSpend"
    assert set(result.data.categorical_features) == {"Education", "Marital_Status"}
