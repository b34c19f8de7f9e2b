"""reportgen: customer segmentation reports (PDF brief, HTML report, JSON, CSV) from a customer table.

Use from Python::

    from reportgen import build_report, load_config
    outcome = build_report(load_config("reportgen.toml", {"segmentation.k": 5}))
    print(outcome.paths)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["__version__", "analyse", "build_report", "load_config"]

if TYPE_CHECKING:
    from reportgen.config import load_config
    from reportgen.pipeline import analyse, build_report


def __getattr__(name: str) -> Any:
    # Heavy imports (scikit-learn, WeasyPrint) wait until they are used, so `reportgen --help` stays fast.
    if name == "load_config":
        from reportgen.config import load_config

        return load_config
    if name in ("analyse", "build_report"):
        from reportgen import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'reportgen' has no attribute {name!r}")
