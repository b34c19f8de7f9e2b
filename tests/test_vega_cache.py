"""The page's JavaScript bundle is kept in the user's cache folder and reused by later runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import vl_convert

from reportgen.render.charts import vega


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(vega, "_bundle", None)
    return tmp_path


def test_built_once_then_read_from_the_cache(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = vega.bundle()
    path = vega.cache_file()
    assert path.parent == fresh / "reportgen" and path.stat().st_size > 100_000
    assert "vegaEmbed" in built and "</script" not in built
    monkeypatch.setattr(vega, "_bundle", None)

    def refuse(*_: object) -> str:
        raise AssertionError("the cached bundle should have been used")

    monkeypatch.setattr(vl_convert, "javascript_bundle", refuse)
    assert vega.bundle() == built


def test_a_truncated_cache_is_rebuilt(fresh: Path) -> None:
    path = vega.cache_file()
    path.parent.mkdir(parents=True)
    path.write_text("window.vegaEmbed = (function(){", encoding="utf-8")  # a run stopped mid-write
    assert "vegaEmbed" in vega.bundle() and len(vega.bundle()) > 100_000
    assert path.read_text(encoding="utf-8").endswith("// reportgen: complete\n")


def test_an_unwritable_cache_is_skipped(fresh: Path) -> None:
    (fresh / "reportgen").write_text("not a folder")
    assert len(vega.bundle()) > 100_000
