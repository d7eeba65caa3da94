"""Warm-ups that are not transcription: no warm-up's reference answer is already written out above it.

A warm-up (exercise 1 of a chapter, ``kind == "warm-up"`` in the registry) asks the
student to write a computation from its equation. If the chapter's code above the
exercise already holds the reference answer nearly token for token, the exercise
teaches copying. The rule measures how much of the answer is there:

* **The answer.** The body of ``def my_…`` in the chapter's Solution block
  (``<details><summary>Solution</summary>`` with a fenced ``python`` block), read
  with :mod:`ast`; docstrings and comments are dropped.
* **Tokens.** Python's :mod:`tokenize`, without comments, line breaks and
  indentation, and normalised so that a renamed copy is still a copy: every
  name that is not a keyword, a builtin, a name imported somewhere in the
  chapter (``np``, ``torch``, ``F`` …) or an attribute (after ``.``) becomes
  the placeholder :data:`PLACEHOLDER` — the answer's parameters and locals and
  the chapter's variables alike, so ``W[c]`` and ``weights[cls]`` read the
  same; and a keyword argument's ``name=`` is dropped, so ``argmax(dim=1)``
  and ``argmax(1)`` read the same. Numbers, strings, operators and method
  names are kept: ``torch.einsum("k,khw->hw", …)`` and ``np.tensordot`` are
  another form, not a copy.
* **Overlap.** The share of the answer's tokens that lie in a run of
  :data:`NGRAM` (8) consecutive tokens which also occurs in the chapter's code
  cells above the exercise's stub cell (all of them; the message names the cell
  that holds the most). This is the token coverage of plagiarism detectors
  (JPlag's minimum match length) rather than the share of n-grams: a run of 8
  tokens is about one expression such as ``( W [ c ] [ : , None ,``, long
  enough that a chapter on another subject rarely shares it by chance (the
  median overlap of each warm-up with *other* chapters' code is at most 25 %),
  and counting tokens rather than n-grams does not let one changed token in a
  two-line answer hide the runs on either side of it.
* **Bar.** A warm-up fails when its overlap exceeds :data:`MAX_OVERLAP`
  (50 %): then more than half of the answer can be copied, run by run, from
  the chapter above.

The unit tests at the bottom show that the rule can say no (a verbatim copy and
a renamed copy score high) and can say yes (unrelated code scores about 0).
"""

import ast
import builtins
import io
import json
import keyword
import re
import tokenize

import pytest
from book_layout import ROOT

from book_tools.exercises.registry import EXERCISES

NGRAM = 8
MAX_OVERLAP = 0.5
PLACEHOLDER = "NAME"
WARM_UPS = [ex for ex in EXERCISES.values() if ex.kind == "warm-up"]
_SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
         tokenize.ENCODING, tokenize.ENDMARKER}
_KEPT = set(keyword.kwlist) | set(keyword.softkwlist) | set(dir(builtins))


def _src(cell):
    return "".join(cell["source"])


def _python(source):
    """A code cell's source as Python: IPython's magics (lines that start with % or !) become comments."""
    return "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def tokens(code: str, kept=frozenset()) -> list[str]:
    """``code``'s tokens as strings, without comments, line breaks and indentation, names normalised.

    A name becomes :data:`PLACEHOLDER` unless it is a keyword or builtin, is in
    ``kept`` (the chapter's imported names) or follows a ``.`` (an attribute); a
    keyword argument's ``name=`` inside brackets is dropped.
    """
    raw = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type not in _SKIP]
    out, depth, skip = [], 0, 0
    for i, tok in enumerate(raw):
        text = tok.string
        if tok.type == tokenize.OP and text in "([{":
            depth += 1
        elif tok.type == tokenize.OP and text in ")]}":
            depth = max(depth - 1, 0)
        if skip:
            skip -= 1
            continue
        if tok.type == tokenize.NAME and depth > 0 and i + 1 < len(raw) and raw[i + 1].string == "=":
            skip = 1  # a keyword argument: drop `name` and `=`
            continue
        if tok.type == tokenize.NAME and text not in _KEPT and text not in kept \
                and not (i > 0 and raw[i - 1].string == "."):
            text = PLACEHOLDER
        out.append(text)
    return out


def ngrams(toks: list[str], n: int = NGRAM) -> set[tuple[str, ...]]:
    """Every run of ``n`` consecutive tokens (the whole list when it is shorter than ``n``)."""
    if len(toks) < n:
        return {tuple(toks)} if toks else set()
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


def overlap(answer: str, cells: list[str], kept=frozenset(), n: int = NGRAM) -> float:
    """The share of ``answer``'s tokens that lie in a run of ``n`` tokens also found in ``cells`` (0 to 1)."""
    toks = tokens(answer, kept)
    seen = set().union(*(ngrams(tokens(cell, kept), n) for cell in cells))
    covered = [False] * len(toks)
    width = min(n, len(toks))
    for i in range(len(toks) - width + 1):
        if tuple(toks[i:i + width]) in seen:
            covered[i:i + width] = [True] * width
    return sum(covered) / len(toks) if toks else 0.0


# ------------------------------------------------------------------ reading the chapters


def imported_names(codes: list[str]) -> set[str]:
    """Every name an import statement of ``codes`` binds (``np`` for ``import numpy as np``)."""
    names = set()
    for code in codes:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def function_body(code: str, name: str) -> str | None:
    """The source of the body of ``def name`` in ``code``, without its docstring (None when absent)."""
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                body = body[1:]
            return "\n".join(ast.get_source_segment(code, stmt) for stmt in body)
    return None


def warm_up_parts(ex):
    """(the reference answer's body, [("cell i (id …)", source) of code cells above the stub], imported names)."""
    cells = json.loads((ROOT / "notebooks" / f"{ex.chapter}.ipynb").read_text())["cells"]
    codes = [(i, c.get("id"), _python(_src(c))) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    stub = next(i for i, _, code in codes if re.search(rf"^def {ex.function}\(", code, re.M))
    answer = None
    for c in cells[stub + 1:]:
        src = _src(c)
        if c["cell_type"] == "markdown" and "<summary>Solution</summary>" in src:
            for block in re.findall(r"```python\n(.*?)```", src, re.S):
                answer = answer or function_body(block, ex.function)
            break
    above = [(f"cell {i} (id {cell_id})", code) for i, cell_id, code in codes if i < stub]
    return answer, above, imported_names([code for _, _, code in codes])


@pytest.mark.parametrize("ex", WARM_UPS, ids=lambda ex: ex.function)
def test_no_warm_up_answer_is_written_out_above_it(ex):
    answer, above, kept = warm_up_parts(ex)
    assert answer, f"{ex.chapter}: no Solution block with `def {ex.function}` after the exercise's stub"
    share = overlap(answer, [code for _, code in above], kept)
    best = max(above, key=lambda ic: overlap(answer, [ic[1]], kept))
    assert share <= MAX_OVERLAP, (
        f"{ex.chapter}: {share:.0%} of the reference answer of {ex.function} (its {NGRAM}-token runs, "
        f"names normalised) is already in the chapter's code above the exercise, above the bar of "
        f"{MAX_OVERLAP:.0%}; {best[0]} holds {overlap(answer, [best[1]], kept):.0%} of it. Write that "
        f"computation another way above (the library call, or another layout of the same equation).")


# ------------------------------------------------------------------ the rule itself can fail and pass

_ANSWER = "return (W[c][:, None, None] * f[0]).sum(dim=0).numpy()"


def test_a_verbatim_copy_scores_all():
    assert overlap(_ANSWER, ["x = 1", "return (W[c][:, None, None] * f[0]).sum(dim=0).numpy()"]) == 1.0
    assert overlap(_ANSWER, ["cam = (W[c][:, None, None] * f[0]).sum(dim=0).numpy()"]) > 0.95


def test_a_renamed_copy_still_scores_high():
    renamed = "M_c = (weights[cls][:, None, None] * features[0]).sum(0).numpy()"
    assert overlap(_ANSWER, [renamed]) > 0.9


def test_a_copy_split_over_two_cells_is_found():
    answer = "M = logits.argmax(dim=1)[0] == c\nreturn logits[0, c][M].sum()"
    assert overlap(answer, ["mask = out.argmax(1)[0] == k", "print(mask.sum())", "score = out[0, k][mask].sum()"]) > 0.9


def test_unrelated_code_scores_about_nothing():
    unrelated = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.imshow(image)\nax.set_title('photo')"
    assert overlap(_ANSWER, [unrelated], kept={"plt"}) < 0.05


def test_another_form_of_the_same_equation_passes():
    library = "M = torch.einsum('k,khw->hw', W[c], f[0]).numpy()"
    assert overlap(_ANSWER, [library], kept={"torch"}) <= MAX_OVERLAP


def test_names_are_normalised_but_imports_attributes_and_numbers_kept():
    assert tokens("np.mean(x, axis=0)  # note\n", kept={"np"}) == ["np", ".", "mean", "(", PLACEHOLDER, ",", "0", ")"]
    assert tokens("y = len(x)") == [PLACEHOLDER, "=", "len", "(", PLACEHOLDER, ")"]
