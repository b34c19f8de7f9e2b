"""The package layout follows the data flow: a stage imports only from the stages before it.

``inputs → prepare → model → describe → compare → render``, with the frozen records (``result``), the config and
a few shared modules below them all, and the commands (``pipeline``, ``cli``, ...) on top. Read from the source
with :mod:`ast`, so an import inside a function counts too; ``TYPE_CHECKING`` imports count as well.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reportgen"

# rank of each top-level part of the package; a module may import parts of the same or a lower rank
SHARED = ("errors", "resources", "sandbox", "memory", "formatting")
RANKS = {name: 0 for name in SHARED} | {
    "config": 1, "result": 2, "inputs": 3, "prepare": 4, "model": 5, "describe": 6, "compare": 7, "render": 8,
}
COMMANDS = 9  # pipeline, cli, validate, initconfig, userfiles, __init__, __main__


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts).removesuffix(".__init__")] = path
    return found


def _imports(path: Path, name: str) -> set[str]:
    """The reportgen modules ``path`` imports, resolved to module names where the name is a module."""
    modules = _modules()
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("reportgen")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reportgen"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
    found.discard(name)
    return found


def _rank(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:  # the package itself: its version, and the two names it exposes lazily
        return 0
    return RANKS.get(parts[1], COMMANDS)


def test_every_stage_imports_only_what_comes_before_it() -> None:
    wrong = []
    for name, path in _modules().items():
        if name == "reportgen":  # the package's own names, imported when they are first used
            continue
        for target in _imports(path, name):
            if _rank(target) > _rank(name):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = {name: _imports(path, name) & set(_modules()) for name, path in _modules().items()}
    # a package's __init__ importing its own submodules is how it exposes them, not a cycle
    graph = {name: {t for t in deps if not t.startswith(name + ".")} for name, deps in graph.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" → ".join([*trail[trail.index(nxt):], nxt]) if nxt in trail else nxt)
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []


@pytest.mark.parametrize("package", sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")))
def test_every_stage_package_says_what_comes_in_and_goes_out(package: str) -> None:
    doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text(encoding="utf-8")))
    assert doc and len(doc) > 60, f"reportgen/{package}/__init__.py needs a docstring"


def test_every_output_format_has_one_renderer_module() -> None:
    from reportgen.config import FORMATS
    from reportgen.render import MODULES

    assert set(MODULES) == set(FORMATS)
