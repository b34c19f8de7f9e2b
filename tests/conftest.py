"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


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
