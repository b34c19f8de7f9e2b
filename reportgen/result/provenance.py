"""Versions of the libraries a result depends on, for the appendix and summary.json."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

_LIBRARIES = ("pandas", "numpy", "scikit-learn", "scipy", "kneed", "altair", "vl-convert-python", "jinja2",
              "weasyprint", "pydantic", "pyarrow")


def library_versions() -> tuple[tuple[str, str], ...]:
    """(name, version) of each library the analysis and rendering use."""
    found = []
    for name in _LIBRARIES:
        try:
            found.append((name, version(name)))
        except PackageNotFoundError:
            found.append((name, "not installed"))
    return tuple(found)
