"""The rulebook: vocabulary, validation (every problem at once), firing, fallback and rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from reportgen.cli import main
from reportgen.describe.rules import SegmentMetrics, load_rulebook, metric_names_valid, recommend, role_of_metric
from reportgen.describe.vocabulary import evidence_text
from reportgen.errors import ConfigError
from reportgen.formatting import int_fmt, money, num, pct, times
from reportgen.resources import sample_data_dir


def _rule(**fields: object) -> str:
    """One [[rule]] table: a valid rule unless ``fields`` override or (with None) drop keys."""
    table = {"id": "r", "title": "T", "when": "share > 0.1", "action": "A", "rationale": "R", "priority": 1, **fields}
    return "\n[[rule]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in table.items() if v is not None)


FALLBACK = _rule(id="watch", when=None, fallback=True, action="Watch {{ segment }}: {{ traits_text }}.", priority=5)


def _metrics(**z: float) -> dict[str, float | str]:
    """Metrics of a segment of 200 customers in a base of 1,000 with the given z per role."""
    metrics: dict[str, float | str] = {"size": 200, "share": 0.2, "k": 4, "silhouette": 0.41}
    for role, value in z.items():
        base = 50.0
        metrics.update({f"z_{role}": value, f"mean_{role}": base * (1 + value / 2), f"median_{role}": base,
                        f"base_mean_{role}": base, f"ratio_{role}": 1 + value / 2})
    return metrics


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("names", "unknown"),
    [
        (["size", "share", "value_share", "silhouette", "k"], []),
        (["z_monetary", "mean_recency", "median_income", "base_mean_age", "ratio_children"], []),
        (["r_score", "f_score", "m_score", "rfm_top_group", "rfm_share_champions", "rfm_share_at_risk"], []),
        (["z_spend", "mean_Income", "avg_monetary", "segment"], ["avg_monetary", "mean_Income", "segment", "z_spend"]),
        (["z_", "ratio_", "sizes"], ["ratio_", "sizes", "z_"]),
    ],
)
def test_metric_vocabulary(names: list[str], unknown: list[str]) -> None:
    assert metric_names_valid(names) == unknown


@pytest.mark.parametrize(
    ("name", "role"),
    [("z_recency", "recency"), ("base_mean_web_visits", "web_visits"),
     ("median_catalog_purchases", "catalog_purchases"), ("value_share", "monetary"), ("share", None),
     ("rfm_share_champions", None), ("z_spend", None)],
)
def test_role_of_metric(name: str, role: str | None) -> None:
    assert role_of_metric(name) == role


@pytest.mark.parametrize(
    ("formatter", "value", "expected"),
    [
        (int_fmt, 12345.6, "12,346"), (int_fmt, 7, "7"), (pct, 0.123, "12.3%"), (pct, 1, "100.0%"),
        (times, 1.83, "1.8×"), (times, float("inf"), "–"), (num, 12345.678, "12,346"), (num, 123.4, "123"),
        (num, 12.345, "12.3"), (num, 1.2345, "1.23"), (num, "Champions", "Champions"), (num, float("nan"), "–"),
        (money, 1234.5, "$1,234"), (money, 12.5, "$12.50"), (money, -250, "\u2212$250"), (num, 12.0, "12"),
        (num, -0.6, "\u22120.60"),
    ],
)
def test_filters(formatter: object, value: object, expected: str) -> None:
    assert formatter(value) == expected  # type: ignore[operator]


def test_builtin_rulebook_covers_the_brief() -> None:
    rulebook = load_rulebook(None, "extend")
    ids = {rule.id for rule in rulebook.rules}
    assert 30 <= len(ids) <= 45  # behaviours of most customer tables: value, activity, service, credit, products...
    assert [rule.id for rule in rulebook.rules if rule.fallback] == ["monitor-and-test"]
    for expected in ("win-back-lapsing-high-value", "premium-upsell-affluent", "deal-led-offers", "digital-push",
                     "store-experience", "catalogue-mailing", "family-bundles", "loyalty-programme",
                     "reactivate-dormant-low-value", "nurture-new-customers", "include-in-next-campaign",
                     "complaint-recovery", "budget-value-range", "rfm-protect-champions", "rfm-rescue-at-risk",
                     "protect-high-value", "reengage-low-activity", "reactivate-inactive", "service-frequent-contacts",
                     "manage-high-utilization", "cross-sell-few-products", "recognise-long-tenure"):
        assert expected in ids
    targeted = {rule.id: rule.target for rule in rulebook.rules if rule.target}
    assert targeted["win-back-lapsing-high-value"] == "lapsed" and "z_recency" in next(
        r for r in rulebook.rules if r.id == "reactivate-inactive").requires


def test_target_must_be_known(tmp_path: Path) -> None:
    path = _write(tmp_path, _rule(id="odd-target", target="everyone") + FALLBACK)
    with pytest.raises(ConfigError, match=r"rule 'odd-target': 'target' must be one of .*lapsed"):
        load_rulebook(path, "replace")


BROKEN = "".join([
    _rule(id="no-title", title=None),
    _rule(id="bad-priority", priority=9, colour="red"),
    _rule(id="bad-syntax", when="z_monetary >= "),
    _rule(id="forbidden", when="__import__('os').system('rm -rf /') > 0"),
    _rule(id="unknown-metric", when="z_spend >= 0.5", action="Spend {{ mean_spend }} for {{ segment }}."),
    _rule(id="jinja-broken", action="Offer {{ segment "),
    _rule(id="bad-priority", title="Again"),
    _rule(id=None, priority="high"),
])


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, BROKEN + FALLBACK)
    with pytest.raises(ConfigError) as info:
        load_rulebook(path, "replace")
    message = str(info.value)
    expected = [
        "rule 'no-title': missing key 'title'",
        "rule 'bad-priority': 'priority' must be an integer from 1 (highest) to 5 but received 9",
        "rule 'bad-priority': unknown key 'colour' but received 'red'",
        "rule 'bad-syntax': 'when' is invalid: syntax error",
        "rule 'forbidden': 'when' is invalid: function calls are not allowed",
        "rule 'unknown-metric': 'when' uses unknown metric(s) 'z_spend'",
        "rule 'unknown-metric': 'action' uses unknown variable(s) 'mean_spend'",
        "rule 'jinja-broken': 'action' has a template syntax error on line 1",
        "rule 'bad-priority': duplicate id (first used by rule #2)",
        "rule #8: missing key 'id'",
        "rule #8: 'priority' must be an integer from 1 (highest) to 5 but received 'high'",
    ]
    for fragment in expected:
        assert fragment in message, fragment
    assert len(info.value.problems) == len(expected)
    assert all(problem.startswith(str(path)) for problem in info.value.problems)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[[rule]\nid = 'x'", "not valid TOML"),
        ("title = 'no rules'", "unknown top-level key 'title'"),
        (_rule(id="only"), "no fallback rule"),
        (FALLBACK + FALLBACK.replace('"watch"', '"watch-2"'), "only one rule may have fallback = true"),
        (FALLBACK.replace("fallback = true", 'fallback = true\nwhen = "share > 0.5"'), "takes no 'when'"),
        (FALLBACK.replace("fallback = true", 'fallback = "yes"'), "'fallback' must be true or false"),
        (FALLBACK.replace("Watch {{ segment }}", "{{ ''.__class__.__mro__ }}"), "private attribute"),
        (FALLBACK.replace("Watch {{ segment }}", "{{ '' | attr('__class__') }}"), "unsafe"),
        (FALLBACK.replace("Watch {{ segment }}", "{{ 'x' * 100000000 }}"), "is more than the budget allows"),
        (FALLBACK.replace("Watch {{ segment }}", "{{ 2 ** 100000 }}"), "would be an integer of more than 4096 bits"),
        (FALLBACK.replace("Watch {{ segment }}", "{{ share | nosuchfilter }}"), "template syntax error"),
        (FALLBACK.replace("fallback = true", 'fallback = true\nwhen = "true"'), None),
    ],
)
def test_file_level_problems(tmp_path: Path, text: str, fragment: str | None) -> None:
    path = _write(tmp_path, text)
    if fragment is None:
        assert load_rulebook(path, "replace").fallback.id == "watch"
        return
    with pytest.raises(ConfigError) as info:
        load_rulebook(path, "replace")
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("path", "mode"), [(None, "replace"), (None, "merge"), (Path("x.toml"), "REPLACE")])
def test_bad_mode(path: Path | None, mode: str) -> None:
    with pytest.raises(ConfigError, match=r"rules\.mode"):
        load_rulebook(path, mode)


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="rules file not found"):
        load_rulebook(tmp_path / "nope.toml", "extend")


def test_extend_replaces_same_id_and_user_fallback_replaces_builtin(tmp_path: Path) -> None:
    path = _write(tmp_path, FALLBACK + _rule(id="deal-led-offers", title="Coupons", when="z_deal_purchases >= 0.2"))
    rulebook = load_rulebook(path, "extend")
    by_id = {rule.id: rule for rule in rulebook.rules}
    assert by_id["deal-led-offers"].title == "Coupons"
    assert rulebook.fallback.id == "watch"
    assert "monitor-and-test" not in by_id
    assert "win-back-lapsing-high-value" in by_id


SEGMENTS = [
    SegmentMetrics(2, "Lapsed VIPs", {**_metrics(monetary=1.2, recency=0.9, income=0.3), "value_share": 0.45},
                   ("High Spend",)),
    SegmentMetrics(0, "Quiet middle", {**_metrics(monetary=0.1, recency=-0.1, income=0.0), "value_share": 0.2},
                   ("High Annual Income (k$)", "Low Age")),
    SegmentMetrics(1, "Rich spenders", {**_metrics(monetary=0.8, recency=-0.2, income=1.1), "value_share": 0.35},
                   ("High Income",)),
]


def test_recommendations_fire_with_fallback_only_when_nothing_else_does() -> None:
    recommendations, _ = recommend(load_rulebook(None, "extend"), SEGMENTS, currency="€")
    fired = [(r.segment_id, r.rule_id, r.fallback) for r in recommendations]
    assert fired == [(0, "monitor-and-test", True), (1, "premium-upsell-affluent", False),
                     (1, "protect-high-value", False), (2, "win-back-lapsing-high-value", False),
                     (2, "protect-high-value", False), (2, "reactivate-inactive", False)]
    assert all(r.audience == 200 for r in recommendations)


def test_action_text_and_evidence_carry_the_real_numbers() -> None:
    recommendations, _ = recommend(load_rulebook(None, "extend"), SEGMENTS, currency="€")
    winback = next(r for r in recommendations if r.rule_id == "win-back-lapsing-high-value")
    assert winback.action == ("Send a personal win-back offer to the 200 customers of Lapsed VIPs who are inactive "
                              "for longer than the typical customer: they spend €80.00 on average (1.6× the base) but "
                              "were last active 72.5 days ago (typical customer: 50 days).")
    assert [(e.metric, e.value) for e in winback.evidence] == [("z_monetary", 1.2), ("z_recency", 0.9)]
    assert winback.evidence[1].text == "z_recency = +0.90 (mean 72.5 vs 50 base)"
    fallback = next(r for r in recommendations if r.fallback)
    assert "Quiet middle (200 customers, 20.0% of the base)" in fallback.action
    assert "high Annual Income (k$), low Age" in fallback.action


def test_not_applicable_rules_are_listed_once_with_the_missing_role() -> None:
    _, not_applicable = recommend(load_rulebook(None, "extend"), SEGMENTS)
    reasons = dict(not_applicable)
    assert len(reasons) == len(not_applicable)
    assert reasons["complaint-recovery"] == "needs role 'complaints'"
    assert reasons["convert-site-visitors"] == "needs roles 'web_purchases', 'web_visits'"
    assert reasons["rfm-protect-champions"].startswith("needs RFM metrics")
    assert "win-back-lapsing-high-value" not in reasons


def test_order_by_priority_then_id(tmp_path: Path) -> None:
    rules = "".join(_rule(id=rule_id, priority=priority) for rule_id, priority in [("b", 2), ("a", 2), ("c", 1)])
    recommendations, _ = recommend(load_rulebook(_write(tmp_path, rules + FALLBACK), "replace"), SEGMENTS[:1])
    assert [r.rule_id for r in recommendations] == ["c", "a", "b"]


@pytest.mark.parametrize(
    ("name", "metrics", "expected"),
    [
        ("z_income", {"z_income": -0.4}, "z_income = -0.40"),
        ("ratio_monetary", {"ratio_monetary": 1.83}, "ratio_monetary = 1.8× the base"),
        ("value_share", {"value_share": 0.456}, "value_share = 45.6%"),
        ("rfm_top_group", {"rfm_top_group": "Champions"}, "rfm_top_group = Champions"),
        ("size", {"size": 1234}, "size = 1,234"),
    ],
)
def test_evidence_text(name: str, metrics: dict[str, float | str], expected: str) -> None:
    assert evidence_text(name, metrics) == expected


def test_condition_on_wrong_type_is_a_clear_error(tmp_path: Path) -> None:
    path = _write(tmp_path, FALLBACK + _rule(id="typed", when="rfm_top_group > 1"))
    segment = SegmentMetrics(0, "S", {"size": 5, "share": 1.0, "rfm_top_group": "Champions"})
    with pytest.raises(ConfigError, match="rule 'typed': 'when' fails on segment 'S'"):
        recommend(load_rulebook(path, "replace"), [segment])


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({"when": "z_monetry >= 1"}, "rule 'r': 'when' uses unknown metric(s) 'z_monetry' (did you mean "
                                     "'z_monetary'?) in 'z_monetry >= 1'"),
        ({"prority": 2}, "rule 'r': unknown key 'prority' (did you mean 'priority'?) but received 2"),
        ({"when": "share >"}, "rule 'r': 'when' is invalid: syntax error: invalid syntax in 'share >'"),
        ({"when": "share.__class__ > 1"}, "rule 'r': 'when' is invalid: attribute access is not allowed in "
                                          "'share.__class__ > 1'"),
        ({"when": "open('x') > 1"}, "rule 'r': 'when' is invalid: function calls are not allowed except"),
        ({"when": 5}, "rule 'r': 'when' must be a condition text but received 5"),
        ({"action": "{{ segment | upper }} {{ avg_spend }}"}, "rule 'r': 'action' uses unknown variable(s) "
                                                              "'avg_spend'"),
    ],
)
def test_rule_problems_name_the_rule_key_and_value(tmp_path: Path, fields: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_rulebook(_write(tmp_path, _rule(**fields) + FALLBACK), "replace")
    assert fragment in str(info.value)
    assert all(problem.startswith(f"{tmp_path / 'rules.toml'}: rule ") for problem in info.value.problems)


def test_rule_problems_reach_the_command_line_as_one_line(tmp_path: Path) -> None:
    rules = _write(tmp_path, BROKEN + FALLBACK)
    config = tmp_path / "reportgen.toml"
    config.write_text(f"[rules]\nfile = {json.dumps(str(rules))}\nmode = \"replace\"\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(sample_data_dir() / "customers.csv"), "-c", str(config), "-o",
                                       str(tmp_path / "out"), "--formats", "json", "-q", "--k", "3"])
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("Error: 11 problems: ")
    assert "rule 'unknown-metric': 'when' uses unknown metric(s) 'z_spend'" in result.output
    assert "rule 'bad-syntax': 'when' is invalid: syntax error" in result.output
    assert not (tmp_path / "out").exists()
