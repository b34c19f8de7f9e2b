"""Where the bundled templates, sample data and rulebook live.

In an installed wheel ``templates/`` and ``sample_data/`` are shipped inside the package; in a source
checkout they sit at the repository's top level, one folder above the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    inside = _PACKAGE / name
    return inside if inside.is_dir() else _PACKAGE.parent / name


def templates_dir() -> Path:
    """Folder of the built-in Jinja templates and stylesheets."""
    return _bundled("templates")


def sample_data_dir() -> Path:
    """Folder of the bundled synthetic sample data and its config."""
    return _bundled("sample_data")


def package_data(name: str) -> Path:
    """A data file shipped inside the package itself (rulebook, naming table)."""
    return _PACKAGE / "data" / name
