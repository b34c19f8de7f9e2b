"""Every file a user hands reportgen besides the data, loaded and tried before any data is read.

A run that would fail on its rules file, RFM map, segment names, templates, logo or baseline folder must fail in a
moment, not after loading, cleaning and segmenting a large table: ``run`` and ``validate`` both call
:func:`check_user_files` first. The rules file is loaded and each action rendered with sample values (inside the
rule budget), the RFM group map is loaded, every file of the template folder is compiled through the sandboxed
loader (a link out of the folder, a file that is not a template or a syntax error is refused), and the logo is
read and checked to be an image. Every problem is collected, each naming its key, file or rule, and they are
raised together.
"""

from __future__ import annotations

import os
from pathlib import Path

from reportgen.config import Config
from reportgen.errors import ConfigError, RenderError, ReportgenError, is_link_loop

MAX_TEMPLATE_FILES = 500


def _problems(exc: ReportgenError) -> list[str]:
    problems = getattr(exc, "problems", None)
    if not problems:
        return [str(exc)]
    prefix = f"{exc.source}: " if getattr(exc, "source", None) else ""
    return [prefix + p for p in problems]


def _name_problems(config: Config) -> list[str]:
    names, k = config.segmentation.names, config.segmentation.k
    problems = []
    for key, value in names.items():
        where = f"Config value 'segmentation.names.{key}'"
        if not key.isdigit():
            problems.append(f"{where}: expected a segment id (0, 1, 2, ...) as the key but received {key!r}")
        elif isinstance(k, int) and int(key) >= k:
            problems.append(f"{where}: segment {key} does not exist with segmentation.k = {k} (ids 0 to {k - 1})")
        if not str(value).strip():
            problems.append(f"{where}: expected a non-empty name but received {value!r}")
    return problems


def check_user_files(config: Config) -> list[str]:
    """Load and try every user file of ``config``, without reading the data; one line per kind of file checked.

    Raises
    ------
    ConfigError
        Listing every problem at once: the rules file (each rule named), the RFM group map, segment names, the
        template folder (the file refused), the logo and the baseline folder.
    """
    from reportgen.describe.rfm import load_rfm_groups
    from reportgen.describe.rules import load_rulebook
    from reportgen.render.logo import read_logo

    done: list[str] = []
    problems: list[str] = []
    rules_file = config.resolve(config.rules.file)
    try:
        rulebook = load_rulebook(rules_file, config.rules.mode)
        named = f" ({rules_file.name})" if rules_file else ""
        done.append(f"rules: {len(rulebook.rules)} rules loaded and tried{named}")
    except ReportgenError as exc:
        problems += _problems(exc)
    if config.transactions.rfm_groups:
        try:
            load_rfm_groups(config.resolve(config.transactions.rfm_groups))
            done.append("RFM group map: loaded")
        except ReportgenError as exc:
            problems += _problems(exc)
    problems += _name_problems(config)
    if config.output.template_dir:
        folder = config.resolve(config.output.template_dir)
        try:
            count = check_template_folder(folder)
            done.append(f"templates: {count} file{'' if count == 1 else 's'} compiled in the sandbox")
        except ReportgenError as exc:
            key = "Config value 'output.template_dir'"
            problems += [p if p.startswith(key) else f"{key}: {p}" for p in _problems(exc)]
    if config.report.logo:
        try:
            mime, data = read_logo(config.resolve(config.report.logo))
            done.append(f"logo: {mime}, {len(data):,} bytes")
        except ReportgenError as exc:
            problems += _problems(exc)
    if config.comparison.baseline and not (folder := config.resolve(config.comparison.baseline)).is_dir():
        what = "a symbolic link loop" if is_link_loop(folder) else "baseline folder not found"
        problems.append(f"Config value 'comparison.baseline': {what}: {folder}")
    if problems:
        raise ConfigError(problems)
    return done


def check_template_folder(folder: Path) -> int:
    """Compile every file in a user template folder through the sandboxed loader; the number of files.

    Raises
    ------
    RenderError
        Naming the folder and the file that is refused or does not compile.
    """
    import jinja2

    from reportgen.render.templating import environment

    if not folder.is_dir():
        raise RenderError(f"Config value 'output.template_dir': {folder} is not a folder")
    env = environment(folder)
    names = []
    for base, dirs, files in os.walk(folder):  # links to folders are not followed here; the loader refuses them
        names += [os.path.relpath(os.path.join(base, f), folder) for f in files]
        for entry in [*dirs, *files]:
            path = os.path.join(base, entry)
            real = os.path.realpath(path)
            if os.path.islink(path) and os.path.commonpath([real, os.path.realpath(folder)]) != \
                    os.path.realpath(folder):
                raise RenderError(f"template folder {folder}: '{os.path.relpath(path, folder)}' leads outside the "
                                  "template folder (through a symbolic link)")
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(base, d))]
        if len(names) > MAX_TEMPLATE_FILES:
            raise RenderError(f"template folder {folder}: more than {MAX_TEMPLATE_FILES} files")
    from reportgen.render.templating import TEMPLATE_SUFFIXES
    from reportgen.resources import templates_dir

    builtin = {p.name for p in templates_dir().iterdir()}
    # Other files (a README, the images of a design) are never loaded; one named like a built-in file would be.
    names = [n for n in names if n.lower().endswith(TEMPLATE_SUFFIXES) or n in builtin]
    for name in sorted(names):
        try:
            env.get_template(name.replace(os.sep, "/"))
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"template '{name}' line {exc.lineno}: {' '.join(str(exc).split())}") from None
        except jinja2.TemplateError as exc:
            raise RenderError(" ".join(str(exc).split())) from None
    return len(names)
