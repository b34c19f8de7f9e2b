"""The one error hierarchy of reportgen.

Every error a *user* can cause (a bad file, a bad config key, a template that does not render) is a
:class:`ReportgenError`. The CLI turns it into one line on stderr and exit code 1. Anything else that escapes
is a bug and keeps its traceback.
"""

from __future__ import annotations


class ReportgenError(Exception):
    """Base class: a problem the user can fix. ``str(err)`` is the one-line message shown to them."""


class ConfigError(ReportgenError):
    """Raised by :mod:`reportgen.config` and the rulebook loader for invalid settings or rules.

    ``problems`` holds every problem found, so all of them are reported together.
    """

    def __init__(self, problems: list[str] | str, source: str | None = None) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        prefix = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = prefix + self.problems[0]
        else:
            message = prefix + f"{len(self.problems)} problems: " + "; ".join(self.problems)
        super().__init__(message)


class DataError(ReportgenError):
    """Raised while loading, validating or cleaning input data (names the file, column or row)."""


class AnalysisError(ReportgenError):
    """Raised when the data cannot be segmented as asked (e.g. K larger than the number of customers)."""


class RenderError(ReportgenError):
    """Raised when a template, chart or output format fails to render or to be written."""


class BaselineError(ReportgenError):
    """Raised when a previous run used as a baseline is missing, corrupt or incompatible."""


def is_link_loop(path: object) -> bool:
    """Whether opening ``path`` fails because its symbolic links form a loop."""
    import errno
    import os

    try:
        os.stat(path)  # type: ignore[arg-type]
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False
