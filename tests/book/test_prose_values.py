"""The values the prose quotes ({eval} roles) read the same wherever the chapter is read.

myst-nb (the website) evaluates a Markdown cell's ``{eval}`` roles when it reaches that
cell, top to bottom. JupyterLab's Run All sends every code cell to the kernel first and
the text cells' expressions after them, so there the roles read the values the names
hold at the *end* of the chapter (and run cell by cell, they read them in place). Both
agree only if no code cell after a sentence rebinds or changes a name the sentence
quotes, which is what this checks: assignments, ``for``/``with``/``except`` targets,
``del``, imports and definitions, item and attribute assignments on the name. A method
that changes an object in place (``values.append(x)``) is not seen here; running each
chapter and comparing every quoted value in place and at the end found no difference
when this rule was written.
"""

import ast
import json
import re

import pytest
from book_layout import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EVAL = re.compile(r"\{eval\}`([^`]+)`")


def _key(node):
    """``("share", "clean")`` for ``share["clean"]``; ``("share", None)`` for a name read otherwise."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and isinstance(node.slice, ast.Constant):
        return (node.value.id, node.slice.value)
    return None


def _read_names(expression: str) -> set[tuple]:
    """What an expression reads: (name, key) for ``name[constant]``, else (name, None)."""
    tree = ast.parse(expression, mode="eval")
    bound = {n.id for comp in ast.walk(tree) if isinstance(comp, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))
             for gen in comp.generators for n in ast.walk(gen.target) if isinstance(n, ast.Name)}
    keyed = {id(node.value): _key(node) for node in ast.walk(tree) if _key(node)}
    return {keyed.get(id(n), (n.id, None)) for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id not in bound}


def _conflicts(reads: set[tuple], changes: set[tuple]) -> list[str]:
    hits = []
    for name, key in reads:
        for changed, changed_key in changes:
            if name == changed and (key is None or changed_key is None or key == changed_key):
                hits.append(name if changed_key is None else f"{name}[{changed_key!r}]")
    return sorted(set(hits))


def _base_name(node):
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed_names_flat(stmt) -> set[str]:
    changed = set()
    for node in _walk_outside_functions(stmt):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.ExceptHandler) and node.name:
            changed.add((node.name, None))  # Python deletes it after the handler
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            changed |= {((a.asname or a.name).split(".")[0], None) for a in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            changed.add((node.name, None))
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, (ast.Store, ast.Del)):
                    changed.add((sub.id, None))
            if isinstance(target, (ast.Subscript, ast.Attribute)) and _base_name(target):
                changed.add(_key(target) or (_base_name(target), None))
    return changed


def _walk_outside_functions(node):
    yield node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
        return  # its name is bound here; its body is local
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            yield child  # its name is bound here; its body is local
            continue
        if isinstance(child, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue  # comprehension variables do not leak
        yield from _walk_outside_functions(child)


def _quoted_then_changed(path):
    cells = json.loads(path.read_text())["cells"]
    found = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for expression in EVAL.findall("".join(cell["source"])):
            names = _read_names(expression)
            for j in range(i + 1, len(cells)):
                if cells[j]["cell_type"] == "code":
                    hit = _conflicts(names, _changed_names_flat_cell("".join(cells[j]["source"])))
                    if hit:
                        found.append(f"cell {i} quotes {expression!r}; cell {j} changes {hit}")
    return found


def _changed_names_flat_cell(code: str) -> set[str]:
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    changed = set()
    for stmt in ast.parse(code).body:
        changed |= _changed_names_flat(stmt)
    return changed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_eval_expression_parses(path):
    cells = json.loads(path.read_text())["cells"]
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "markdown":
            for expression in EVAL.findall("".join(cell["source"])):
                try:
                    ast.parse(expression, mode="eval")
                except SyntaxError as error:
                    pytest.fail(f"{path.name} cell {i}: {{eval}}`{expression}` is not a Python expression: {error}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_quoted_name_changes_after_the_sentence(path):
    found = _quoted_then_changed(path)
    assert not found, (f"{path.name}: JupyterLab's Run All would quote the later value (see the module's docstring); "
                       "give the quoted value a name of its own:\n" + "\n".join(found))
