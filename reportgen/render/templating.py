"""The Jinja environment of the HTML and PDF reports: loaders, escaping, sandboxing and number filters.

User templates (``output.template_dir``) are looked up before the built-in ones and run in a sandbox, because a
template folder may come from someone other than the person running the tool.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SecurityError

from reportgen.errors import RenderError
from reportgen.formatting import int_fmt, money, num, pct, signed, times, typographic_minus
from reportgen.resources import templates_dir
from reportgen.sandbox import TEMPLATE_LIMITS, BudgetedSandbox, BudgetError, budget, render


def _finalize(value: Any) -> Any:
    """Every plain string a template prints gets the minus sign; markup (charts, scripts, styles) is left as is."""
    return typographic_minus(value) if type(value) is str else value


@jinja2.pass_context
def _money(context: jinja2.runtime.Context, value: Any) -> str:
    """Amount in the report currency (``currency`` in the template context)."""
    return money(value, context.get("currency", "$"))


FILTERS = {"num": num, "int_fmt": int_fmt, "pct": pct, "money": _money, "signed": signed, "times": times}


TEMPLATE_SUFFIXES = (".html", ".htm", ".css", ".svg", ".xml")
MAX_TEMPLATE_BYTES = 2_000_000


class FolderLoader(jinja2.BaseLoader):
    """A user's template folder: only template files that lie inside it, links resolved, are served.

    A name that resolves outside the folder (``..``, an absolute path, a symbolic link to a file or a folder
    elsewhere) or that is not a template (not a text file with a template suffix; the page script is not one) is
    refused with an error naming it; a name the folder does not hold falls through to the built-in templates.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.root = Path(os.path.realpath(self.folder))

    def _refuse(self, name: str, why: str) -> jinja2.TemplateError:
        return jinja2.TemplateError(f"template folder {self.folder}: '{name}' {why}")

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        pieces = jinja2.loaders.split_template_path(template)  # refuses '..' and empty parts
        if "\0" in template or any(piece.startswith("/") for piece in pieces):
            raise self._refuse(template, "is not a template name")
        path = self.folder.joinpath(*pieces)
        if not os.path.lexists(path):
            raise jinja2.TemplateNotFound(template)
        real = Path(os.path.realpath(path))
        if real != self.root and self.root not in real.parents:
            raise self._refuse(template, "leads outside the template folder (through a symbolic link)")
        if path.suffix.lower() not in TEMPLATE_SUFFIXES:
            raise self._refuse(template, f"is not a template (only {', '.join(TEMPLATE_SUFFIXES)} files)")
        try:
            info = real.stat()
            if not stat.S_ISREG(info.st_mode):
                raise self._refuse(template, "is not a regular file")
            if info.st_size > MAX_TEMPLATE_BYTES:
                raise self._refuse(template, f"is larger than {MAX_TEMPLATE_BYTES:,} bytes")
            source = real.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise self._refuse(template, "is not UTF-8 text") from None
        except OSError as exc:
            raise self._refuse(template, f"cannot be read ({exc.strerror})") from None
        mtime = info.st_mtime
        return source, str(real), lambda: os.path.exists(real) and os.path.getmtime(real) == mtime


@lru_cache(maxsize=8)
def environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The Jinja environment for the reports.

    Parameters
    ----------
    template_dir
        Folder of user templates that override the built-in ones file by file; when given, every template
        runs in the budgeted sandbox (:class:`reportgen.sandbox.BudgetedSandbox`) and is read through
        :class:`FolderLoader`.

    Returns
    -------
    jinja2.Environment
        HTML/XML/SVG autoescaped, undefined names are errors, and the report filters registered.
    """
    loaders: list[jinja2.BaseLoader] = [FolderLoader(template_dir)] if template_dir else []
    loaders.append(jinja2.FileSystemLoader(str(templates_dir())))
    kind = BudgetedSandbox if template_dir else jinja2.Environment
    env = kind(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html", "htm", "xml", "svg"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters.update(FILTERS)
    return env


def render_template(name: str, context: dict[str, Any], template_dir: Path | None = None) -> str:
    """Render one template, turning every template problem into a one-line :class:`RenderError`.

    User templates (with ``template_dir``) render within :data:`reportgen.sandbox.TEMPLATE_LIMITS`.

    Raises
    ------
    RenderError
        Naming the template when it is missing, malformed, uses an undefined value, breaks the sandbox or its
        budget.
    """
    try:
        template = environment(template_dir).get_template(name)
        if template_dir is None:
            return template.render(context)
        with budget(TEMPLATE_LIMITS):
            return render(template, context)
    except jinja2.TemplateNotFound as exc:
        where = f"{template_dir} or the built-in templates" if template_dir else "the built-in templates"
        raise RenderError(f"template '{name}': '{exc.name}' not found in {where}") from None
    except BudgetError as exc:
        raise RenderError(f"template '{_culprit(exc, name)}' went past its budget: {_one_line(exc)}") from None
    except SecurityError as exc:
        raise RenderError(f"template '{_culprit(exc, name)}' was refused by the sandbox: {_one_line(exc)}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"template '{exc.filename or name}' line {exc.lineno}: {_one_line(exc)}") from None
    except jinja2.TemplateError as exc:
        raise RenderError(f"template '{name}' could not be rendered: {_one_line(exc)}") from None
    except RecursionError:
        raise RenderError(f"template '{name}' could not be rendered: it calls itself without end") from None
    except Exception as exc:
        if template_dir is None:
            raise
        raise RenderError(f"template '{name}' could not be rendered: {_one_line(exc)}") from None


def _culprit(exc: BaseException, name: str) -> str:
    """The innermost template the error was raised in (an included or extended one), else ``name``."""
    found, tb = name, exc.__traceback__
    while tb is not None:  # Jinja's rewritten traceback has a frame per template line, named by its file
        filename = tb.tb_frame.f_code.co_filename
        if filename.lower().endswith(TEMPLATE_SUFFIXES):
            found = Path(filename).name
        tb = tb.tb_next
    return found


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
