"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The shared folder of real public datasets, next to the repository (``../shared/datasets``) or next to one of
    the folders above it (a checkout in a sub-folder of the workspace).

    Missing on a developer machine, the tests that need it are skipped; missing in CI (``CI=true``) they fail,
    so a broken checkout cannot pass silently.
    """
    repo = Path(__file__).resolve().parents[1]
    found = [up / "shared" / "datasets" for up in repo.parents if (up / "shared" / "datasets").is_dir()]
    folder = found[0] if found else repo.parent / "shared" / "datasets"
    if not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared datasets folder not found: {folder} (required when CI=true)")
        pytest.skip(f"shared datasets folder not found: {folder}")
    return folder


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL cluster (see :mod:`pgcluster`), stopped and removed after the session.

    Without PostgreSQL the tests that need it are skipped on a developer machine and fail when CI=true.
    """
    from pgcluster import start_cluster

    try:
        cluster = start_cluster()
    except (RuntimeError, OSError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL could not be started (required when CI=true): {exc}")
        pytest.skip(f"PostgreSQL could not be started: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="session")
def spark_settings() -> dict:
    """Config overrides that run the Spark engine in ``local[2]`` with a small driver: one session for the whole
    test session (every run's ``getOrCreate`` finds it).

    Spark or Java missing, the tests that need them are skipped on a developer machine and fail when CI=true.
    """
    settings = {"engine": "spark", "spark.master": "local[2]",
                "spark.conf": {"spark.driver.memory": "1g", "spark.sql.shuffle.partitions": "4"}}
    from reportgen.config import load_config
    from reportgen.errors import ReportgenError
    from reportgen.spark.session import start

    try:
        start(load_config(None, settings).spark)
    except ReportgenError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Spark could not be started (required when CI=true): {exc}")
        pytest.skip(f"Spark could not be started: {exc}")
    return settings


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 120 customers of the bundled sample: a run on them takes a fraction of a second."""
    from reportgen.resources import sample_data_dir

    path = tmp_path_factory.mktemp("small") / "customers.csv"
    lines = (sample_data_dir() / "customers.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:121]), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def reference_reports(datasets_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three reports the accessibility checks read: the bundled sample, ``marketing_campaign.csv`` with its
    example config and the ``online_retail.csv.gz`` log; report name → output folder (HTML and PDF)."""
    from reportgen.config import load_config
    from reportgen.pipeline import build_report
    from reportgen.resources import sample_data_dir

    root = tmp_path_factory.mktemp("reference")
    cases = {
        "sample": (sample_data_dir() / "reportgen.toml", {"segmentation.k": 5}),
        "marketing": (REPO / "examples" / "marketing_campaign.toml",
                      {"data.path": str(datasets_dir / "marketing_campaign.csv")}),
        "retail": (None, {"data.path": str(datasets_dir / "online_retail.csv.gz"), "transactions.as_of": "2011-12-10"}),
    }
    folders = {}
    for name, (path, settings) in cases.items():
        settings |= {"output.dir": str(root / name), "output.formats": ["html", "pdf"]}
        folders[name] = build_report(load_config(path, settings)).out_dir
    return folders
