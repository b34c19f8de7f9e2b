"""Tests for reportgen.describe.rfm: quintile scores, the validated group map and the per-segment summaries."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reportgen.describe.rfm import load_rfm_groups, rfm_crosstab, rfm_scores, rfm_slug, segment_rfm_metrics
from reportgen.errors import ConfigError, DataError
from reportgen.resources import package_data

CLASSIC = ("Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention", "About to sleep",
           "At risk", "Can't lose them", "Hibernating", "Lost")


def customers(n: int = 1003, seed: int = 3) -> pd.DataFrame:
    """Customers with heavy ties, like a real base: many one-off buyers, recency in whole days."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in rng.permutation(n)],
        "recency_days": rng.integers(1, 60, n),
        "frequency": rng.geometric(0.5, n),
        "monetary": np.round(rng.lognormal(5, 1, n), 2),
    })


def write_map(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "groups.toml"
    path.write_text(text, encoding="utf-8")
    return path


def box(name: str, r: str = "[1, 5]", f: str = "[1, 5]", m: str = "[1, 5]") -> str:
    return f'[[group]]\nname = "{name}"\nr = {r}\nf = {f}\nm = {m}\n\n'


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as excinfo:
        load_rfm_groups(path)
    message = str(excinfo.value)
    assert "\n" not in message and str(path) in message
    return message


def test_builtin_map_covers_every_cell_once() -> None:
    groups = load_rfm_groups()
    assert groups.names == CLASSIC
    assert groups.cells.shape == (5, 5, 5) and groups.cells.min() >= 0
    sizes = Counter(groups.names[i] for i in groups.cells.ravel())
    assert sum(sizes.values()) == 125 and set(sizes) == set(CLASSIC)
    assert groups.group_of(5, 5, 5) == "Champions" and groups.group_of(1, 1, 1) == "Lost"
    assert groups.group_of(1, 5, 5) == "Can't lose them" and groups.group_of(1, 5, 1) == "At risk"
    assert groups.group_of(5, 1, 3) == "New" and groups.group_of(3, 5, 5) == "Loyal"
    assert all(groups.descriptions)


def test_rulebook_metrics_exist_in_the_builtin_map() -> None:
    used = set(re.findall(r"rfm_share_\w+", package_data("rulebook.toml").read_text(encoding="utf-8")))
    assert used and used <= {f"rfm_share_{rfm_slug(name)}" for name in load_rfm_groups().names}


@pytest.mark.parametrize(("name", "slug"), [
    ("Can't lose them", "cant_lose_them"), ("At risk", "at_risk"), ("Champions", "champions"),
    ("Potential loyalist", "potential_loyalist"), ("Need  attention!", "need_attention"), ("Café VIPs", "cafe_vips"),
])
def test_rfm_slug(name: str, slug: str) -> None:
    assert rfm_slug(name) == slug


def test_scores_are_quintiles_of_equal_size() -> None:
    frame = customers()
    scored = rfm_scores(frame, "customer_id")
    n = len(frame)
    for score in ("r_score", "f_score", "m_score"):
        counts = scored[score].value_counts()
        assert sorted(counts.index) == [1, 2, 3, 4, 5]
        assert all(n // 5 <= c <= n // 5 + 1 for c in counts), counts
    assert list(scored.columns) == [*frame.columns, "r_score", "f_score", "m_score", "rfm_group"]
    assert scored.index.equals(frame.index)


def test_score_direction() -> None:
    scored = rfm_scores(customers(), "customer_id")
    # More recent (fewer days), more frequent and higher spend never score lower; ties rise with the id.
    for score, column, sign in (("r_score", "recency_days", -1), ("f_score", "frequency", 1),
                                ("m_score", "monetary", 1)):
        ordered = scored.assign(key=scored[column] * sign).sort_values(["key", "customer_id"])[score].to_numpy()
        assert np.all(np.diff(ordered) >= 0)
    best = scored.loc[scored["recency_days"].idxmin()]
    assert best["r_score"] == 5


def test_scores_do_not_depend_on_row_order() -> None:
    frame = customers()
    first = rfm_scores(frame, "customer_id").set_index("customer_id").sort_index()
    shuffled = rfm_scores(frame.sample(frac=1, random_state=7), "customer_id").set_index("customer_id").sort_index()
    pd.testing.assert_frame_equal(first, shuffled)


def test_ties_are_broken_by_customer_id() -> None:
    frame = pd.DataFrame({"id": [9, 3, 7, 1, 5], "recency_days": 4, "frequency": 1, "monetary": 10.0})
    scored = rfm_scores(frame, "id").set_index("id")
    assert scored.loc[[1, 3, 5, 7, 9], "m_score"].tolist() == [1, 2, 3, 4, 5]
    assert scored.loc[[1, 3, 5, 7, 9], "r_score"].tolist() == [1, 2, 3, 4, 5]


def test_groups_follow_the_map(tmp_path: Path) -> None:
    scored = rfm_scores(customers(), "customer_id")
    groups = load_rfm_groups()
    expected = [groups.group_of(r, f, m) for r, f, m in scored[["r_score", "f_score", "m_score"]].to_numpy()]
    assert scored["rfm_group"].tolist() == expected
    halves = load_rfm_groups(write_map(tmp_path, box("Recent", r="[3, 5]") + box("Earlier", r="[1, 2]")))
    custom = rfm_scores(customers(), "customer_id", halves)
    assert set(custom["rfm_group"]) == {"Recent", "Earlier"}
    assert (custom["rfm_group"] == np.where(custom["r_score"] >= 3, "Recent", "Earlier")).all()


def test_map_with_a_gap_names_the_cells(tmp_path: Path) -> None:
    path = write_map(tmp_path, box("Most", r="[2, 5]") + box("Some", r="1", f="[2, 5]")
                     + box("Few", r="1", f="1", m="[3, 5]"))
    message = config_error(path)
    assert "cells (1,1,1), (1,1,2) are not covered by any group" in message


def test_map_with_an_overlap_names_the_cells(tmp_path: Path) -> None:
    path = write_map(tmp_path, box("Champions", r="[1, 5]") + box("Loyal", r="5", f="5", m="5"))
    assert "cell (5,5,5) is in both 'Champions' and 'Loyal'" in config_error(path)
    wide = write_map(tmp_path, box("Champions") + box("Loyal", r="[4, 5]"))
    assert "cells (4,1,1), (4,1,2)" in config_error(wide) and "… (50 cells) are in both" in config_error(wide)
    twice = write_map(tmp_path, box("Champions", r="[2, 5]") + box("Lost", r="1") + box("Lost", r="1", f="5"))
    assert "cells (1,5,1), (1,5,2), (1,5,3), (1,5,4), (1,5,5) are in 'Lost' 2 times" in config_error(twice)


def test_map_problems_are_reported_together(tmp_path: Path) -> None:
    path = write_map(tmp_path, 'colour = "blue"\n' + box("A", r="[0, 5]") + box("B", f="[4, 2]")
                     + '[[group]]\nname = ""\nr = 1\nf = 1\nm = 1\nweight = 2\n')
    message = config_error(path)
    assert "5 problems" in message
    assert "unknown top-level key 'colour'" in message and "unknown key 'weight'" in message
    assert "'r' must be a score 1-5 or a range" in message and "[0, 5]" in message and "[4, 2]" in message
    assert "'name' must be a non-empty text" in message


@pytest.mark.parametrize(("text", "expected"), [
    ("[[group]\nname = 1", "not valid TOML"),
    ('title = "no groups"\n', "expected one or more [[group]] tables"),
    (box("Cafe") + box("Café", r="5"), "share the metric name 'rfm_share_cafe'"),
])
def test_map_file_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in config_error(write_map(tmp_path, text))


def test_missing_map_file(tmp_path: Path) -> None:
    assert "not found" in config_error(tmp_path / "absent.toml")


def test_segment_metrics_and_crosstab() -> None:
    scored = rfm_scores(customers(), "customer_id")
    labels = np.arange(len(scored)) % 3
    groups = load_rfm_groups()
    metrics = segment_rfm_metrics(scored, labels, groups)
    assert sorted(metrics) == [0, 1, 2]
    for segment, entry in metrics.items():
        rows = scored[labels == segment]
        shares = {k: v for k, v in entry.items() if k.startswith("rfm_share_")}
        assert len(shares) == len(groups.names) and sum(shares.values()) == pytest.approx(1)
        assert entry["r_score"] == pytest.approx(rows["r_score"].mean())
        assert entry["rfm_top_group"] == rows["rfm_group"].value_counts().idxmax()
        assert {"rfm_share_champions", "rfm_share_at_risk", "rfm_share_cant_lose_them"} <= set(entry)
    table = rfm_crosstab(scored, labels, groups)
    assert len(table) == 3 * len(groups.names) and sum(count for _, _, count in table) == len(scored)
    assert [g for s, g, _ in table if s == 0] == list(groups.names)
    present = rfm_crosstab(scored, labels)
    assert {g for _, g, _ in present} == set(scored["rfm_group"])


def test_top_group_ties_follow_the_map_order() -> None:
    scored = pd.DataFrame({"r_score": [5, 1], "f_score": [5, 1], "m_score": [5, 1], "rfm_group": ["Lost", "Champions"]})
    metrics = segment_rfm_metrics(scored, np.array([4, 4]), load_rfm_groups())
    assert metrics[4]["rfm_top_group"] == "Champions" and metrics[4]["rfm_share_lost"] == 0.5


@pytest.mark.parametrize(("change", "expected"), [
    (lambda f: f.drop(columns="monetary"), "'monetary'"),
    (lambda f: f.assign(frequency=f["frequency"].where(f.index > 0)), "'frequency' have missing values"),
    (lambda f: f.assign(customer_id="same"), "repeats ids"),
])
def test_bad_customer_tables(change, expected: str) -> None:
    with pytest.raises(DataError, match=expected):
        rfm_scores(change(customers(20)), "customer_id")


def test_empty_table() -> None:
    scored = rfm_scores(customers(0), "customer_id")
    assert len(scored) == 0 and "rfm_group" in scored.columns
