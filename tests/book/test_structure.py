"""Structure rules: where code lives, in the packages and in the chapters.

The guide (one module per concept, a public home for shared tools, notebooks that
import helpers instead of copying them) as checks that name the file and line:

- no module of ``tutorial_utils/`` or ``benchmarks/`` (subpackages included) is
  longer than :data:`MAX_LINES` lines;
- no module imports another module's private names (``from .x import _y``,
  ``models._load_resnet50``); dunder names are not private;
- no function or class is defined in two chapters, and no chapter defines a
  function named like a public name of ``tutorial_utils`` or ``benchmarks``;
- few docstring examples are skipped, and each says why.

``make test`` also runs the docstring examples themselves
(``pytest -p isolation --doctest-modules tutorial_utils benchmarks book_tools``).
"""

from __future__ import annotations

import ast
import doctest
import json
import re
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from book_layout import ROOT

PACKAGES = ("tutorial_utils", "benchmarks", "book_tools")
#: Every module of the packages, subpackages included.
MODULES = sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: A module longer than this is more than one concept: split it.
MAX_LINES = 600
#: Docstring examples marked ``# doctest: +SKIP``, at most, over both packages.
MAX_SKIPPED_EXAMPLES = 10

#: Names several chapters may define, each a few lines that belong to the chapter:
#: ``forward`` is a chapter's own timed forward pass (a two-line closure handed to its
#: timer) and the method of each chapter's own ``nn.Module`` or autograd function;
#: ``__init__`` is that module's constructor. Anything else defined in two chapters
#: is a helper to define once, in ``tutorial_utils``, and import.
SHARED_NAMES_ALLOWED = frozenset({"forward", "__init__"})


def _where(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_the_packages_are_found():
    found = {path.relative_to(ROOT).parts[0] for path in MODULES}
    assert found == set(PACKAGES), f"modules found only in {sorted(found)}"
    assert NOTEBOOKS, "no notebooks found in notebooks/"


# --------------------------------------------------------------------------- modules

def test_no_module_is_longer_than_the_limit():
    offenders = []
    for path in MODULES:
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            offenders.append(f"{_where(path)}:{MAX_LINES + 1}: {n} lines, more than {MAX_LINES}")
    assert not offenders, (
        "modules too long: split each along its concepts (one module per concept), "
        "or move a shared tool into a public module of its own:\n" + "\n".join(offenders)
    )


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: Dotted name of every module of the two packages: ``tutorial_utils.models``, ``benchmarks``, …
KNOWN_MODULES = {_module_name(path) for path in MODULES}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(importer: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute name of what ``from <level dots><module> import …`` in ``importer`` reads from."""
    if level == 0:
        return module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def private_name_uses(path: Path, source: str | None = None) -> list[str]:
    """Where the module at ``path`` uses another module's private names, as ``file:line: what``.

    Three forms are found: ``from .x import _y`` (any number of dots),
    ``from tutorial_utils.x import _y``, and ``x._y`` or ``tutorial_utils.x._y``
    where ``x`` is one of the packages' modules bound by an import. A private module
    (``_grader``) may be imported by name inside its own package; another package
    must not import it. Dunder names (``__version__``) are public.
    """
    importer = _module_name(path)
    is_package = path.name == "__init__.py"
    top = importer.split(".")[0]
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"))
    where = _where(path)
    found = []
    aliases: dict[str, str] = {}  # local name -> module of the packages it is bound to
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in PACKAGES:
                    continue
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
                private_parts = [p for p in alias.name.split(".") if _private(p)]
                if private_parts and alias.name.split(".")[0] != top:
                    found.append(f"{where}:{node.lineno}: imports {alias.name}, a private module of another package")
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(importer, is_package, node.level, node.module)
            if target.split(".")[0] not in PACKAGES:
                continue
            if target.split(".")[0] != top and any(_private(p) for p in target.split(".")):
                found.append(f"{where}:{node.lineno}: imports from {target}, a private module of another package")
            for alias in node.names:
                full = f"{target}.{alias.name}"
                if full in KNOWN_MODULES:  # a submodule, by name
                    aliases[alias.asname or alias.name] = full
                    if _private(alias.name) and target.split(".")[0] != top:
                        found.append(f"{where}:{node.lineno}: imports {full}, a private module of another package")
                elif _private(alias.name) and target != importer:
                    found.append(f"{where}:{node.lineno}: `from {'.' * node.level}{node.module or ''} import "
                                 f"{alias.name}` takes the private name {alias.name} of {target}")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        chain, value = [], node.value
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if not isinstance(value, ast.Name) or value.id not in aliases:
            continue
        module = aliases[value.id]
        for part in chain:
            module = f"{module}.{part}"
        if module in KNOWN_MODULES and module != importer:
            dotted = ".".join([value.id, *chain, node.attr])
            found.append(f"{where}:{node.lineno}: {dotted} reaches into the private name {node.attr} of {module}")
    return found


@pytest.mark.parametrize(
    "source,expected",
    [
        ("from .models import _load_resnet50", ["_load_resnet50 of tutorial_utils.models"]),
        ("from ..models import _Foo", ["_Foo of tutorial_utils.models"]),
        ("from tutorial_utils.cam import _weights", ["_weights of tutorial_utils.cam"]),
        ("from . import models\nmodels._load_resnet50()", ["models._load_resnet50 reaches into"]),
        ("import tutorial_utils.gradients as g\ng._Foo", ["g._Foo reaches into"]),
        ("import tutorial_utils\ntutorial_utils.gradients._Foo", ["tutorial_utils.gradients._Foo reaches"]),
        ("from .cam import __doc__, class_activation_map", []),               # dunder and public names
        ("from .cam import _weights as w", ["_weights of tutorial_utils.cam"]),
        ("from .checks import positive_int\nself._cache\nnp._x", []),           # not modules of the packages
    ],
)
def test_the_private_name_rule(source, expected):
    # As if the source were tutorial_utils/viz.py (for ``..``: a subpackage's module).
    path = ROOT / "tutorial_utils" / ("exercises/base.py" if "from .." in source else "viz.py")
    found = private_name_uses(path, source)
    assert len(found) == len(expected), found
    for message, needle in zip(found, expected):
        assert needle in message, (needle, message)


def test_the_private_name_rule_allows_a_modules_own_names():
    path = ROOT / "tutorial_utils" / "models.py"
    assert private_name_uses(path, "from tutorial_utils.models import _load_resnet50\nimport sys") == []
    own = ROOT / "tutorial_utils" / "_grader.py"
    assert private_name_uses(own, "from tutorial_utils._grader import _child_main") == []
    other_package = ROOT / "benchmarks" / "run.py"
    assert private_name_uses(other_package, "from tutorial_utils import _grader")


def test_the_private_name_rule_allows_a_private_module_inside_its_package(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "KNOWN_MODULES", KNOWN_MODULES | {"tutorial_utils._internal"})
    importer = ROOT / "tutorial_utils" / "viz.py"
    assert private_name_uses(importer, "from . import _internal\n_internal.something") == []
    assert private_name_uses(importer, "from . import _internal\n_internal._inner")  # but not its private names
    outside = ROOT / "benchmarks" / "run.py"
    assert private_name_uses(outside, "from tutorial_utils import _internal")
    assert private_name_uses(outside, "from tutorial_utils._internal import helper")


def test_no_module_imports_another_modules_private_names():
    offenders = [line for path in MODULES for line in private_name_uses(path)]
    assert not offenders, (
        "a module uses another module's private names: give the tool a public name "
        "(and a docstring), or move it to a public module of its own:\n" + "\n".join(offenders)
    )


# --------------------------------------------------------------------------- chapters

def _parse_cell(source: str) -> ast.Module:
    """A code cell's Python, with IPython's magics and shell lines (``%…``, ``!…``) turned into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


def _definitions(path: Path, *, methods: bool):
    """(name, where) of every ``def`` and ``class`` in the notebook's code cells.

    Nested definitions count; methods (definitions directly in a class body) only
    with ``methods=True``.
    """
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        try:
            tree = _parse_cell("".join(cell["source"]))
        except SyntaxError as err:
            pytest.fail(f"{path.name} cell {i} (id {cell.get('id')}), line {err.lineno}: not Python: {err.msg}")
        in_class_body = {id(child) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for child in node.body}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if methods or id(node) not in in_class_body:
                    yield node.name, f"{path.name} cell {i} (id {cell.get('id')}), line {node.lineno}"


def test_no_helper_is_defined_in_two_chapters():
    defined: dict[str, dict[str, str]] = {}
    for path in NOTEBOOKS:
        for name, where in _definitions(path, methods=True):
            defined.setdefault(name, {}).setdefault(path.name, where)
    offenders = [
        f"`{name}` is defined in {len(places)} chapters: " + "; ".join(places.values())
        for name, places in sorted(defined.items())
        if len(places) > 1 and name not in SHARED_NAMES_ALLOWED
    ]
    assert not offenders, (
        "a helper copied between chapters: define it once in tutorial_utils and import it "
        "(or, if each chapter's version is its own, give each its own name):\n" + "\n".join(offenders)
    )
    unused = {name for name in SHARED_NAMES_ALLOWED if len(defined.get(name, {})) < 2}
    assert not unused, f"SHARED_NAMES_ALLOWED lists {sorted(unused)}, which no two chapters define any more: remove it"


def _public_names() -> dict[str, str]:
    """{name: package} for the public names the packages export (their ``__all__``)."""
    import importlib

    names = {}
    for package in PACKAGES:
        for name in getattr(importlib.import_module(package), "__all__", ()):
            names.setdefault(name, package)
    return names


def test_no_chapter_redefines_a_public_helper():
    """A chapter's own version of a library function takes another name.

    The simple form of the rule: a ``def`` or ``class`` (outside a class body) whose
    name is in ``tutorial_utils.__all__`` or ``benchmarks.__all__`` fails, even if a
    later cell compares it with the library's — call the plain version
    ``cam_by_hand`` and check ``cam_by_hand(...)`` against the helper.
    """
    public = _public_names()
    assert public, "tutorial_utils exports no names (__all__)"
    offenders = [
        f"{where}: defines `{name}`, a public name of {public[name]}"
        for path in NOTEBOOKS
        for name, where in _definitions(path, methods=False)
        if name in public
    ]
    assert not offenders, (
        "a chapter shadows the library's helper with its own: import the helper, or give the "
        "chapter's plain version its own name and check it against the helper:\n" + "\n".join(offenders)
    )


# --------------------------------------------------------------------------- docstring examples

#: A doctest directive: ``# doctest:`` and the option list up to the end of the line.
_DIRECTIVE = re.compile(r"#\s*doctest:(?P<options>.*)$")
#: A comment of at least two words: the reason an example is skipped.
_REASON = re.compile(r"#\s*(?P<reason>[^#\s][^#]*?\s+[^#\s][^#]*?)\s*$")


def _docstring_lines(tree: ast.Module) -> set[int]:
    """Source line numbers that belong to docstrings (module, classes, functions)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                lines.update(range(first.lineno, first.end_lineno + 1))
    return lines


#: How to write the reason for a skip (see :func:`skipped_examples`).
REASON_SYNTAX = ("a comment before the directive, `>>> f(x)  # needs the ResNet50 download  # doctest: +SKIP`, "
                 "or a comment line just above it, `>>> # needs the ResNet50 download`")


class Skips(NamedTuple):
    """What :func:`skipped_examples` finds, each as ``file:line``."""

    skipped: list[str]      # examples marked ``# doctest: +SKIP``
    unexplained: list[str]  # ... of which these give no reason
    malformed: list[str]    # ``# doctest:`` comments doctest cannot read, with what is wrong


def skipped_examples(path: Path, source: str | None = None) -> Skips:
    """The docstring examples of a module that are skipped, and those that say not why.

    The reason for a skip is a comment of at least two words, written before the
    directive on the same line::

        >>> model = load_model("resnet50")  # needs the ResNet50 download  # doctest: +SKIP

    or alone on the line just above, as an example line that is only a comment::

        >>> # needs the ResNet50 download
        >>> model = load_model("resnet50")  # doctest: +SKIP

    Nothing may follow the directive: doctest reads every word after ``doctest:`` as
    an option, so ``# doctest: +SKIP (needs …)`` is an error ("invalid option"), and
    a quote after the directive makes doctest ignore the directive silently.
    """
    text = source if source is not None else path.read_text(encoding="utf-8")
    lines = text.splitlines()
    where = _where(path)
    found = Skips([], [], [])
    in_docstrings = _docstring_lines(ast.parse(text))
    for number in sorted(in_docstrings):
        line = lines[number - 1]
        if not line.lstrip().startswith((">>>", "...")):
            continue
        match = _DIRECTIVE.search(line)
        if not match:
            continue
        options = match.group("options").replace(",", " ").split()
        bad = [o for o in options if o[:1] not in "+-" or o[1:] not in doctest.OPTIONFLAGS_BY_NAME]
        if bad or not options:
            found.malformed.append(f"{where}:{number}: `{match.group(0).strip()}` (doctest reads "
                                   f"{' '.join(bad) if bad else 'no option'!r} as an option)")
            continue
        if "+SKIP" not in options:
            continue
        found.skipped.append(f"{where}:{number}")
        above = lines[number - 2].strip() if number - 1 in in_docstrings else ""
        reason_above = re.fullmatch(r"(>>>|\.\.\.)\s*#.*", above) and _REASON.search(above)
        if not _REASON.search(line[: match.start()]) and not reason_above:
            found.unexplained.append(f"{where}:{number}")
    return found


def test_the_skip_reason_syntax_is_what_doctest_reads():
    parser = doctest.DocTestParser()
    same_line = '>>> 1 / 0  # needs the "network"  # doctest: +SKIP\n'
    line_above = ">>> # needs the network\n>>> 1 / 0  # doctest: +SKIP\n"
    for text in (same_line, line_above):
        test = parser.get_doctest(text, {}, "example", None, 0)
        assert test.examples[-1].options == {doctest.SKIP: True}
        assert doctest.DocTestRunner().run(test, out=lambda _: None).failed == 0
    with pytest.raises(ValueError, match="invalid option"):
        parser.get_doctest(">>> 1 / 0  # doctest: +SKIP (needs the network)\n", {}, "example", None, 0)
    # A quote after the directive: doctest does not see the directive at all.
    quoted = parser.get_doctest('>>> 1 / 0  # doctest: +SKIP needs "net"\n', {}, "example", None, 0)
    assert quoted.examples[0].options == {}

    path = ROOT / "tutorial_utils" / "viz.py"

    def check(body):
        return skipped_examples(path, f'def f():\n    """Example.\n\n{body}    """\n')

    assert check("    " + same_line) == (["tutorial_utils/viz.py:4"], [], [])
    assert check("".join("    " + line + "\n" for line in line_above.splitlines())) == (["tutorial_utils/viz.py:5"], [], [])
    assert check("    >>> 1 / 0  # doctest: +SKIP\n").unexplained == ["tutorial_utils/viz.py:4"]
    assert check("    >>> 1 / 0  # one  # doctest: +SKIP\n").unexplained == ["tutorial_utils/viz.py:4"]  # a word is no reason
    assert check("    >>> 1 / 0  # doctest: +SKIP   (in JupyterLab)\n").malformed
    assert check("    >>> 1  # doctest: +ELLIPSIS\n    1\n") == ([], [], [])


def test_few_docstring_examples_are_skipped_and_each_says_why():
    found = Skips([], [], [])
    for path in MODULES:
        for mine, theirs in zip(found, skipped_examples(path)):
            mine += theirs
    problems = []
    if found.malformed:
        problems.append("doctest directives with text after them (an error in doctest; a quote after the "
                        "directive makes doctest ignore it): put the reason before the directive:\n  "
                        + "\n  ".join(found.malformed))
    if found.unexplained:
        problems.append(f"skipped docstring examples that do not say why: write {REASON_SYNTAX}:\n  "
                        + "\n  ".join(found.unexplained))
    if len(found.skipped) > MAX_SKIPPED_EXAMPLES:
        problems.append(f"{len(found.skipped)} docstring examples are skipped, at most {MAX_SKIPPED_EXAMPLES} may be: "
                        "make the others run on a tiny input (a 2×2 map, EfficientNet-Lite0):\n  "
                        + "\n  ".join(found.skipped))
    assert not problems, "\n".join(problems)


def test_make_test_runs_the_book_rules_and_the_docstring_examples():
    recipe = (ROOT / "Makefile").read_text().split("\ntest:", 1)[1].split("\n\n", 1)[0]
    commands = [line.strip() for line in recipe.splitlines() if "pytest" in line and not line.strip().startswith("@")]
    assert any("tests/book" in c.split() for c in commands), f"`make test` does not run tests/book: {commands}"
    doctests = [c for c in commands if "--doctest-modules" in c.split()]
    assert doctests and all(p in doctests[0].split() for p in PACKAGES), f"`make test` does not run the docstring examples: {commands}"
    assert "isolation" in doctests[0].split(), "the docstring examples run without tests/isolation.py"


# --------------------------------------------------------------------------- README

def test_the_readme_layout_names_every_module():
    """README.md's layout table names every module, so a reader knows where each concept lives."""
    rows = [line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    missing = []
    for path in MODULES:
        rel = path.relative_to(ROOT)
        if rel.name in ("__init__.py", "__main__.py"):
            continue
        package = rel.parts[0]
        if len(rel.parts) > 2:  # a subpackage: its folder has a row
            folder = "/".join(rel.parts[:2]) + "/"
            if not any(f"`{folder}`" in row for row in rows):
                missing.append(f"{folder} (for {rel.as_posix()})")
            continue
        ours = [row for row in rows if row.startswith(f"| `{package}/")]
        if not any(f"`{rel.as_posix()}`" in row or f"`{rel.name}`" in row or f"`{rel.stem}`" in row for row in ours):
            missing.append(rel.as_posix())
    assert not missing, "README.md's layout table does not name these modules: " + ", ".join(missing)
