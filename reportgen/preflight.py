"""Everything the config points at, checked before any data is read.

A run that would fail on its rules file, RFM map, segment names, templates or baseline folder must fail in a
moment, not after loading, cleaning and segmenting a large table. :func:`check_user_files` collects every
problem, each naming its key, file or rule, and raises them together; ``run`` and ``validate`` both call it first.
"""

from __future__ import annotations

from pathlib import Path

from reportgen.config import Config
from reportgen.errors import ConfigError, RenderError


def _errors(exc: ConfigError) -> list[str]:
    problems = getattr(exc, "problems", None)
    return list(problems) if problems else [str(exc)]


def _template_problems(folder: Path) -> list[str]:
    """Every template in the folder must compile (syntax errors, unknown filters...)."""
    import jinja2

    from reportgen.render.templating import environment

    key = "Config value 'output.template_dir'"
    if not folder.is_dir():
        return [f"{key}: folder not found but received {str(folder)!r}"]
    env = environment(folder)
    problems = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in {".html", ".css", ".js", ".svg"}):
        name = path.relative_to(folder).as_posix()
        try:
            env.parse(path.read_text(encoding="utf-8"), name=name, filename=str(path))
        except jinja2.TemplateSyntaxError as exc:
            problems.append(f"{key}: template '{name}' line {exc.lineno}: {' '.join(str(exc.message).split())}")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{key}: template '{name}' cannot be read ({exc.__class__.__name__})")
    return problems


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


def check_user_files(config: Config) -> None:
    """Check every user file and cross-key constraint of ``config`` without reading the data.

    Raises
    ------
    ConfigError
        Listing every problem at once: the rules file (each rule named), the RFM group map, segment names,
        the templates folder and the baseline folder.
    """
    from reportgen.rfm import load_rfm_groups
    from reportgen.rules import load_rulebook

    problems: list[str] = []
    try:
        load_rulebook(config.resolve(config.rules.file), config.rules.mode)
    except ConfigError as exc:
        problems += _errors(exc)
    if config.transactions.rfm_groups:
        try:
            load_rfm_groups(config.resolve(config.transactions.rfm_groups))
        except ConfigError as exc:
            problems += _errors(exc)
    problems += _name_problems(config)
    if config.output.template_dir:
        try:
            problems += _template_problems(config.resolve(config.output.template_dir))
        except RenderError as exc:
            problems.append(f"Config value 'output.template_dir': {exc}")
    if config.comparison.baseline and not (folder := config.resolve(config.comparison.baseline)).is_dir():
        problems.append(f"Config value 'comparison.baseline': baseline folder not found: {folder}")
    if problems:
        raise ConfigError(problems)
