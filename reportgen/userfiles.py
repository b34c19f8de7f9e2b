"""Every file a user hands reportgen besides the data, loaded and tried before any data is read.

``reportgen validate`` calls :func:`check_user_files`: the rules file is loaded and each action rendered with
sample values (inside the rule budget), the RFM group map is loaded, every file of the template folder is
compiled through the sandboxed loader (a link out of the folder, a file that is not a template or a syntax error
is refused), and the logo is read and checked to be an image.
"""

from __future__ import annotations

import os
from pathlib import Path

from reportgen.config import Config
from reportgen.errors import RenderError

MAX_TEMPLATE_FILES = 500


def check_user_files(config: Config) -> list[str]:
    """Load and try every user file of ``config``; one line per kind of file checked.

    Raises
    ------
    ReportgenError
        The first problem, naming the file (and the rule or template).
    """
    from reportgen.logo import read_logo
    from reportgen.rfm import load_rfm_groups
    from reportgen.rules import load_rulebook

    done = []
    rules_file = config.resolve(config.rules.file)
    rulebook = load_rulebook(rules_file, config.rules.mode)
    named = f" ({rules_file.name})" if rules_file else ""
    done.append(f"rules: {len(rulebook.rules)} rules loaded and tried{named}")
    if config.transactions.rfm_groups:
        load_rfm_groups(config.resolve(config.transactions.rfm_groups))
        done.append("RFM group map: loaded")
    if config.output.template_dir:
        folder = config.resolve(config.output.template_dir)
        count = check_template_folder(folder)
        done.append(f"templates: {count} file{'' if count == 1 else 's'} compiled in the sandbox")
    if config.report.logo:
        mime, data = read_logo(config.resolve(config.report.logo))
        done.append(f"logo: {mime}, {len(data):,} bytes")
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
