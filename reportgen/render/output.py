"""Atomic output folders that cannot lose data.

Everything is written into a staging folder next to the target and moved into place only when every format
rendered. A marker file in each folder says which kind of output it holds (a run or a history) and lists the files
reportgen wrote; any other file found in the target (the input itself, notes of the user's) is carried over into
the new folder, never deleted. The swap exchanges the two folders in one step where the system allows it
(``renameat2(RENAME_EXCHANGE)`` on Linux), so a kill at any moment leaves the old or the new folder in place; the
leftovers of an interrupted run (``.<name>.tmp-*``, ``.<name>.old-*``) are recovered or removed by the next run.
Swaps into one parent folder are serialised by a lock on that folder, and each run holds a lock on its own
staging folder so that another run never mistakes it for debris.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import logging
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from reportgen.errors import RenderError

logger = logging.getLogger(__name__)

MARKER = ".reportgen-output"
KINDS = ("run", "history")
# What folders written before the marker listed its files hold; anything else in them is the user's.
_KNOWN_OUTPUTS = frozenset({"report.pdf", "report.html", "summary.json", "segments.csv", "customers.csv",
                            "model.json", "reference.json", "history.html", "history.pdf"})
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class Marker:
    """What a folder's marker says: its kind and the files reportgen wrote into it."""

    kind: str
    files: frozenset[str]


def read_marker(folder: Path) -> Marker | None:
    """The marker of ``folder``, or None when it has none (not written by reportgen)."""
    try:
        text = (folder / MARKER).read_text(encoding="utf-8", errors="replace")[:1_000_000]
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return Marker("unknown", frozenset())
    entries = [line.partition("=") for line in text.splitlines() if "=" in line]
    kinds = [value.strip() for key, _, value in entries if key.strip() == "kind"]
    files = frozenset(value.strip() for key, _, value in entries if key.strip() == "file")
    if kinds:
        return Marker(kinds[0], files)
    # A folder from a version whose marker named neither: its kind and files are read from what it holds.
    names = {p.name for p in folder.iterdir()}
    kind = "history" if "history.html" in names and "summary.json" not in names else "run"
    return Marker(kind, frozenset(names & _KNOWN_OUTPUTS))


def _write_marker(folder: Path, kind: str) -> None:
    files = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    lines = ["# reportgen output folder; the next run replaces the files listed here and keeps any other file",
             f"kind = {kind}", *(f"file = {name}" for name in files)]
    (folder / MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _describe(kind: str) -> str:
    return {"run": "a reportgen run (report, summary.json, model.json)", "history": "a reportgen history report"}.get(
        kind, f"reportgen output of an unknown kind ({kind!r})")


def check_target(target: Path, kind: str = "run") -> None:
    """Refuse a target that is not a folder, holds another kind of output, or is a folder reportgen did not write.

    Raises
    ------
    RenderError
        Naming the folder and what it holds.
    """
    try:
        is_dir, exists = target.is_dir(), target.exists() or target.is_symlink()
    except OSError as exc:
        raise RenderError(f"output folder {target}: {exc.strerror}") from None
    if exists and not is_dir:
        raise RenderError(f"output path {target} exists and is not a folder")
    if not is_dir:
        return
    marker = read_marker(target)
    if marker is None:
        if any(p.name != MARKER for p in target.iterdir()):
            raise RenderError(f"output folder {target} is not empty and was not written by reportgen; "
                              "choose a new or empty folder")
        return
    if marker.kind != kind:
        raise RenderError(f"output folder {target} holds {_describe(marker.kind)}; write the {kind} into a "
                          "folder of its own")


def resolve_target(target: Path) -> Path:
    """The output folder as an absolute path with links resolved; a symbolic link loop is refused in one line."""
    try:
        return Path(target).expanduser().resolve()
    except (RuntimeError, OSError):
        raise RenderError(f"output folder {target}: a symbolic link loop") from None


def prepare_target(target: Path, kind: str = "run") -> Path:
    """Recover what interrupted runs left next to ``target``, then check it (see :func:`check_target`).

    Returns
    -------
    Path
        The target, resolved.
    """
    target = resolve_target(target)
    try:
        if target.parent.is_dir():
            with _flock(target.parent):
                recover(target)
    except OSError as exc:
        raise RenderError(f"output folder {target}: {exc.strerror or exc}") from None
    check_target(target, kind)
    return target


@contextlib.contextmanager
def _flock(path: Path, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive lock on a folder; yields False at once when ``blocking`` is off and another holds it."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def _new_folder_mode(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o777 & ~umask


@contextlib.contextmanager
def staging(target: Path, kind: str = "run") -> Iterator[Path]:
    """Yield a fresh staging folder; on normal exit it replaces ``target``, on any error it is removed.

    Parameters
    ----------
    target
        The output folder.
    kind
        What the folder holds: ``"run"`` or ``"history"``; a folder of the other kind is refused.
    """
    target = resolve_target(target)
    check_target(target, kind)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _flock(target.parent):  # created and locked at once: no other run's cleanup can take it meanwhile
            stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
            stage_lock = os.open(stage, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(stage_lock, fcntl.LOCK_EX)
    except OSError as exc:
        raise RenderError(f"cannot create the output folder {target}: {exc.strerror}") from None
    try:
        try:
            yield stage
        except BaseException:
            _remove_stage(stage, target)
            raise
        try:
            _write_marker(stage, kind)
            os.chmod(stage, _new_folder_mode(target))
            with _flock(target.parent):
                recover(target)
                check_target(target, kind)
                _swap(stage, target)
        except OSError as exc:
            _remove_stage(stage, target)
            raise RenderError(f"cannot move the report into {target}: {exc.strerror or exc}") from None
        except BaseException:
            _remove_stage(stage, target)
            raise
    finally:
        if stage.exists():
            _remove_stage(stage, target)
        os.close(stage_lock)


def _foreign(folder: Path) -> list[Path]:
    """Entries of a reportgen folder that reportgen did not write there (kept across runs)."""
    marker = read_marker(folder)
    if marker is None:
        return []
    return [p for p in folder.iterdir() if p.name != MARKER and p.name not in marker.files]


def _swap(stage: Path, target: Path) -> None:
    if not target.is_dir():
        _rename(stage, target)
        return
    keep = _foreign(target)
    if clash := sorted(p.name for p in keep if (stage / p.name).exists() or p.name == MARKER):
        raise RenderError(f"output folder {target} holds {clash[0]!r}, which reportgen did not write and would "
                          "replace; move it away")
    for entry in keep:  # the marker lists only what the run wrote: recovery puts these back after a kill
        os.rename(entry, stage / entry.name)
    if _exchange(stage, target):
        shutil.rmtree(stage, ignore_errors=True)  # now the previous outputs, nothing of the user's
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, old / "previous")
    try:
        os.rename(stage, target)
    except OSError as exc:
        os.rename(old / "previous", target)
        _remove_stage(stage, target)
        raise RenderError(f"cannot move the report into {target}: {exc.strerror}") from None
    shutil.rmtree(old, ignore_errors=True)


def _rename(stage: Path, target: Path) -> None:
    try:
        os.rename(stage, target)
    except OSError as exc:
        raise RenderError(f"cannot move the report into {target}: {exc.strerror}") from None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False where the system or file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EPERM):
        return False
    raise RenderError(f"cannot move the report into {b}: {os.strerror(code)}")


def _remove_stage(stage: Path, target: Path) -> None:
    """Remove a staging (or replaced) folder, first putting back any file of the user's it holds."""
    if not stage.is_dir():
        return
    kept = True
    for entry in _foreign(stage):
        if target.is_dir() and not (target / entry.name).exists():
            os.rename(entry, target / entry.name)
        else:
            kept = False
            logger.warning("%s is kept: it holds %s, which reportgen did not write", stage, entry.name)
    if kept:
        shutil.rmtree(stage, ignore_errors=True)


def recover(target: Path) -> None:
    """Recover or remove what interrupted runs into ``target`` left next to it.

    A ``.<name>.old-*`` folder holds the previous outputs of a run killed between the two renames of a swap: it
    is put back when the target is missing. Staging folders of runs that are no longer running are removed,
    after the files of the user's they hold are moved back into the target. Folders a live run still holds
    locked are left alone.
    """
    parent = target.parent
    if not parent.is_dir():
        return
    leftovers = sorted(p for p in parent.iterdir()
                       if p.name.startswith((f".{target.name}.old-", f".{target.name}.tmp-")) and p.is_dir()
                       and not p.is_symlink())
    for leftover in sorted(leftovers, key=lambda p: ".tmp-" in p.name):  # restore old folders first
        with _flock(leftover, blocking=False) as free:
            if not free:
                continue
            if ".old-" in leftover.name:
                previous = leftover / "previous"
                if previous.is_dir() and not target.exists():
                    os.rename(previous, target)
                elif previous.is_dir():
                    _remove_stage(previous, target)
                if not (leftover / "previous").exists():
                    shutil.rmtree(leftover, ignore_errors=True)
            else:
                _remove_stage(leftover, target)
