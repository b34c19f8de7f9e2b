"""Atomic output: everything is written into a staging folder next to the target and moved into place only
when every format rendered. A failed or interrupted run leaves the previous outputs as they were.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reportgen.errors import RenderError

MARKER = ".reportgen-output"


def check_target(target: Path) -> None:
    """Refuse to replace a folder reportgen did not write (it would be deleted by the swap)."""
    if target.exists() and not target.is_dir():
        raise RenderError(f"output path {target} exists and is not a folder")
    if target.is_dir() and any(target.iterdir()) and not (target / MARKER).exists():
        raise RenderError(f"output folder {target} is not empty and was not written by reportgen; "
                          "choose a new or empty folder")


@contextlib.contextmanager
def staging(target: Path) -> Iterator[Path]:
    """Yield a fresh staging folder; on normal exit it replaces ``target``, on any error it is removed."""
    target = target.resolve()
    check_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    except OSError as exc:
        raise RenderError(f"cannot create the output folder {target}: {exc.strerror}") from None
    try:
        yield stage
        (stage / MARKER).write_text("reportgen output folder; replaced as a whole by the next run\n")
        _swap(stage, target)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _swap(stage: Path, target: Path) -> None:
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rename(target, old / "previous")
    try:
        os.rename(stage, target)
    except OSError as exc:
        if old is not None:
            os.rename(old / "previous", target)
        raise RenderError(f"cannot move the report into {target}: {exc.strerror}") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
