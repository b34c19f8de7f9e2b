"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The shared folder of real public datasets, next to the repository (``../shared/datasets``).

    Missing on a developer machine, the tests that need it are skipped; missing in CI (``CI=true``) they fail,
    so a broken checkout cannot pass silently.
    """
    folder = Path(__file__).parents[1].parent / "shared" / "datasets"
    if not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"shared datasets folder not found: {folder} (required when CI=true)")
        pytest.skip(f"shared datasets folder not found: {folder}")
    return folder


@pytest.fixture(scope="session")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 120 customers of the bundled sample: a run on them takes a fraction of a second."""
    from reportgen.resources import sample_data_dir

    path = tmp_path_factory.mktemp("small") / "customers.csv"
    lines = (sample_data_dir() / "customers.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:121]), encoding="utf-8")
    return path
