"""Two packages and one rule between them: ``tutorial_utils`` (what the chapters teach) never imports ``book_tools``.

``book_tools`` — the exercises and grader, the diagrams, the explorers, the
weights download, model notes, progress reports — uses ``tutorial_utils``; the
other way round is allowed in one place only, ``tutorial_utils/__main__.py``,
which keeps the command name teachers use (``python -m tutorial_utils check``)
and delegates to ``book_tools.cli``. The rule reads every import statement, at
any depth (inside functions too), and every ``importlib.import_module`` or
``__import__`` call with a literal name. The teaching core is also held to a
size a student can read beside the chapters: at most :data:`CORE_LINE_BUDGET`
lines, docstrings included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "tutorial_utils"
MACHINERY = "book_tools"
#: The one module of the core allowed to reach the machinery: the command line's name.
DELEGATE = CORE / "__main__.py"
#: Lines of ``tutorial_utils/**/*.py``, docstrings and comments included: issue 26's 4,000, and
#: what each later concept brings, named: recompute_batchnorm (precise BN, chapter 10); vit.py and
#: reshape_transform in gradients.py (the vision transformer of chapter 08b).
CORE_LINE_BUDGET = 4000 + 30 + 160


def machinery_imports(source: str) -> list[str]:
    """The places in ``source`` that import ``book_tools`` (or a module of it), as ``line: text``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names = [node.args[0].value]
        for name in names:
            if name == MACHINERY or name.startswith(MACHINERY + "."):
                found.append(f"{node.lineno}: {name}")
    return found


@pytest.mark.parametrize(
    "source, flagged",
    [
        ("from book_tools import check_cam", True),
        ("def f():\n    from book_tools.weights import load_pretrained\n    return load_pretrained", True),
        ("import book_tools.cli as cli", True),
        ("import importlib\nimportlib.import_module('book_tools.progress')", True),
        ("__import__('book_tools')", True),
        ("from .cam import class_activation_map\nimport numpy as np", False),
        ("import book_toolsmith  # another package whose name starts the same", False),
    ],
)
def test_the_import_rule_finds_every_form_of_import(source, flagged):
    assert bool(machinery_imports(source)) is flagged


def test_the_teaching_core_never_imports_the_machinery():
    offenders = {
        str(path.relative_to(ROOT)): uses
        for path in sorted(CORE.rglob("*.py"))
        if path != DELEGATE and (uses := machinery_imports(path.read_text(encoding="utf-8")))
    }
    assert not offenders, f"tutorial_utils must not import {MACHINERY}: {offenders}"


def test_the_command_line_module_only_delegates():
    tree = ast.parse(DELEGATE.read_text(encoding="utf-8"))
    body = [node for node in tree.body if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    assert all(isinstance(node, (ast.Import, ast.ImportFrom, ast.If)) for node in body), (
        f"{DELEGATE.name} should only import book_tools.cli.main and call it, found "
        f"{[type(node).__name__ for node in body]}"
    )
    assert machinery_imports(DELEGATE.read_text(encoding="utf-8")) == [f"{body[1].lineno}: {MACHINERY}.cli"]


def core_lines() -> dict[str, int]:
    return {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(CORE.rglob("*.py"))
    }


def test_the_teaching_core_stays_small():
    lines = core_lines()
    total = sum(lines.values())
    largest = sorted(lines.items(), key=lambda item: -item[1])[:5]
    assert total <= CORE_LINE_BUDGET, (
        f"tutorial_utils has {total} lines, over its budget of {CORE_LINE_BUDGET}; the largest: {largest}. "
        f"Move what serves the book rather than the lesson to {MACHINERY}, or say it in fewer lines."
    )


def test_the_machinery_is_not_inside_the_core():
    for folder in ("exercises", "diagrams"):
        assert not (CORE / folder).exists(), f"tutorial_utils/{folder} belongs to {MACHINERY}"
    for module in ("grading", "child", "weights", "web_explorer", "widgets", "model_facts", "progress", "predict"):
        assert not list(CORE.rglob(f"{module}.py")), f"tutorial_utils/{module}.py belongs to {MACHINERY}"


def _module_names() -> dict[str, Path]:
    modules = {}
    for package in ("tutorial_utils", MACHINERY):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Which of ``modules`` each one imports, at any depth (inside functions too); relative imports resolved."""
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = package.split(".")
                base = base[: len(base) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                submodules = {f"{module}.{alias.name}" for alias in node.names} & modules.keys()
                targets.update(submodules)  # `from . import weights` imports the module weights
                if len(submodules) < len(node.names):  # and names defined in `module` itself
                    targets.add(module)
        graph[name] = {target for target in targets if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles among modules (each found once, from its first module in sorted order)."""
    found, done = [], set()

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in trail:
                cycle = trail[trail.index(nxt):]
                if min(cycle) == cycle[0]:
                    found.append(cycle + [nxt])
            elif nxt not in done:
                visit(nxt, trail + [nxt])
        done.add(node)

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_one_that_imports_it_back():
    """No import circle among the modules (issue 26: ``web_explorer`` and ``widgets`` imported each other).

    A package's ``__init__`` importing its submodules is not a circle unless a submodule imports the package back.
    """
    graph = import_graph(_module_names())
    assert "book_tools.web_explorer" in graph["book_tools.widgets"]
    assert "book_tools.widgets" not in graph["book_tools.web_explorer"]
    assert not cycles(graph), f"import cycles: {cycles(graph)}"
