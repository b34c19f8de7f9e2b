"""Segment names: best match wins, names are unique and justified, overrides win, order does not matter."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from reportgen.describe.naming import CONFIG_REASON, NameRule, load_names, name_segments, z_phrase
from reportgen.describe.rules import SegmentMetrics
from reportgen.errors import ConfigError


def _segment(segment_id: int, **z: float) -> SegmentMetrics:
    metrics: dict[str, float | str] = {"size": 100, "share": 0.2}
    metrics.update({f"z_{role}": value for role, value in z.items()})
    return SegmentMetrics(segment_id, f"Segment {segment_id}", metrics)


# The five classic mall-customer groups (income, spending score mapped as monetary, age).
MALL = [
    _segment(0, income=1.1, monetary=1.4, age=-0.4),
    _segment(1, income=1.0, monetary=-1.3, age=0.2),
    _segment(2, income=-1.3, monetary=1.2, age=-0.9),
    _segment(3, income=-1.3, monetary=-1.1, age=0.5),
    _segment(4, income=-0.1, monetary=0.05, age=0.3),
]


@pytest.mark.parametrize(
    ("segment_id", "name", "reason"),
    [
        (0, "Affluent big spenders", "Income +1.1σ and spend +1.4σ above the base."),
        (1, "Affluent but cautious", "Income +1.0σ above and spend -1.3σ below the base."),
        (2, "Budget big spenders", "Income -1.3σ below and spend +1.2σ above the base."),
        (3, "Budget-conscious", "Income -1.3σ and spend -1.1σ below the base."),
        (4, "Mainstream average", "Every measure is close to the average customer's (widest gap: age"),
    ],
)
def test_mall_segments_get_fitting_names(segment_id: int, name: str, reason: str) -> None:
    names = name_segments(MALL, {}, {})
    assert names[segment_id][0] == name
    assert reason in names[segment_id][1]


def test_no_average_name_for_a_segment_with_a_strong_trait() -> None:
    quiet = MALL[4]
    strong = SegmentMetrics(quiet.segment_id, "", {**quiet.metrics, "max_abs_z": 1.8}, quiet.traits)
    names = name_segments([strong], {}, {4: ["High work experience"]})
    assert names[4][0] == "High work experience"


@pytest.mark.parametrize(
    ("z", "name"),
    [
        ({"recency": 0.9, "monetary": 0.8}, "Lapsed high-value"),
        ({"recency": 0.9, "monetary": -0.8}, "Dormant low spenders"),
        ({"frequency": 1.0, "recency": -0.7}, "Loyal frequent buyers"),
        ({"deal_purchases": 1.3}, "Deal seekers"),
        ({"web_purchases": 0.9, "store_purchases": -0.4}, "Digital shoppers"),
        ({"store_purchases": 0.9}, "In-store regulars"),
        ({"catalog_purchases": 1.5}, "Catalogue buyers"),
        ({"tenure": -1.0}, "New customers"),
        ({"tenure": 1.0}, "Long-standing customers"),
        ({"campaign_responses": 1.9}, "Campaign responders"),
        ({"monetary": -0.6, "children": 1.2, "income": -0.2}, "Budget-conscious families"),
        ({"age": -1.2, "monetary": 0.1}, "Young shoppers"),
        ({"age": 1.1, "monetary": 0.9}, "Senior big spenders"),
        ({"complaints": 2.0}, "Dissatisfied customers"),
    ],
)
def test_single_segment_names(z: dict[str, float], name: str) -> None:
    assert name_segments([_segment(0, **z)], {}, {})[0][0] == name


def test_names_are_unique_and_the_stronger_claim_wins() -> None:
    segments = [_segment(0, income=0.6, monetary=0.6), _segment(1, income=1.5, monetary=1.6)]
    names = name_segments(segments, {}, {0: ["High Income", "High Spend"]})
    assert names[1][0] == "Affluent big spenders"
    assert names[0][0] == "High spenders"
    assert len({name for name, _ in names.values()}) == len(names)


def test_fallback_names_come_from_traits_and_stay_unique() -> None:
    segments = [_segment(i, income=0.0, monetary=0.5) for i in range(3)]
    traits = {i: ["High Spending Score (1-100)", "Low Annual Income (k$)"] for i in range(3)}
    names = name_segments(segments, {}, traits, table=(NameRule("Spenders", None, 0.1),))
    assert [names[i][0] for i in range(3)] == [
        "High Spending Score (1-100), low Annual Income (k$)",
        "High Spending Score (1-100), low Annual Income (k$) (2)",
        "High Spending Score (1-100), low Annual Income (k$) (3)",
    ]
    assert all("strongest traits" in reason for _, reason in names.values())
    assert name_segments([_segment(7)], {}, {}, table=())[7] == (
        "Segment 7", "No naming rule matched and no trait stands out.")


def test_override_wins_and_its_name_is_not_reused() -> None:
    names = name_segments(MALL, {0: "Stars", 2: "Affluent big spenders"}, {})
    assert names[0] == ("Stars", CONFIG_REASON)
    assert names[2] == ("Affluent big spenders", CONFIG_REASON)
    assert "named in the config" in names[2][1]
    assert [names[i][0] for i in (1, 3, 4)] == ["Affluent but cautious", "Budget-conscious", "Mainstream average"]


def test_duplicate_overrides_are_made_unique() -> None:
    names = name_segments(MALL[:2], {0: "Core", 1: "core"}, {})
    assert [names[0][0], names[1][0]] == ["Core", "core (2)"]


@pytest.mark.parametrize("seed", range(5))
def test_segment_order_does_not_change_names(seed: int) -> None:
    shuffled = [*MALL, _segment(5, income=1.0, monetary=1.0)]
    expected = name_segments(shuffled, {}, {5: ["High Income"]})
    random.Random(seed).shuffle(shuffled)
    assert name_segments(shuffled, {}, {5: ["High Income"]}) == expected
    assert list(expected) == sorted(expected)


def test_names_needing_unmapped_roles_do_not_apply() -> None:
    # Every name reading frequency needs recency or spend as well, which this data lacks.
    names = name_segments([_segment(0, frequency=0.7)], {}, {0: ["High Frequency"]})
    assert names[0][0] == "High Frequency"


@pytest.mark.parametrize(
    ("zs", "expected"),
    [
        ([("z_income", 1.1), ("z_monetary", 1.4)], "income +1.1σ and spend +1.4σ above the base"),
        ([("z_recency", -0.5)], "days since last purchase -0.5σ below the base"),
        ([("z_age", -1.0), ("z_income", 0.5), ("z_tenure", 0.7)],
         "age -1.0σ below, income +0.5σ above and tenure +0.7σ above the base"),
    ],
)
def test_z_phrase(zs: list[tuple[str, float]], expected: str) -> None:
    assert z_phrase(zs) == expected


def test_builtin_table_loads() -> None:
    table = load_names()
    assert 35 <= len(table) <= 50  # the roles of banking, telecom, retail and survey tables too
    assert sum(entry.all_z_within is not None for entry in table) == 1


def test_names_table_problems_are_reported_together(tmp_path: Path) -> None:
    path = tmp_path / "names.toml"
    path.write_text("""
[[name]]
label = "A"
when = "z_spend >= 1"

[[name]]
label = ""
when = "z_income >="

[[name]]
label = "A"
when = "z_income >= 1"
colour = 1

[[name]]
label = "Both"
when = "z_income > 1"
all_z_within = -1

[[name]]
label = "C"
when = "z_age > 1"

[[name]]
label = "c"
when = "z_age > 2"
""", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_names(path)
    message = str(info.value)
    for fragment in ("name 'A': 'when' uses unknown metric(s) 'z_spend'", "name #2: 'label' must be non-empty",
                     "name #2: 'when' is invalid: syntax error", "name 'A': unknown key 'colour'",
                     "name 'Both': needs exactly one of 'when' or 'all_z_within'",
                     "name 'Both': 'all_z_within' must be a positive number but received -1",
                     "name 'c': duplicate label"):
        assert fragment in message, fragment
