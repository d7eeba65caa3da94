"""The auto-checked exercises: every checker accepts a right answer, names every known mistake,
reports errors clearly, and the notebooks' stubs and hidden solutions behave as the book says."""

import ast
import copy
import functools
import json
import re
import time

import numpy as np
import pytest
import torch
from book_layout import ROOT

from book_tools import EXERCISES, CheckResult, ExerciseFailed, grade
from book_tools.cli import main
from book_tools.exercises import load_student_file
from book_tools.exercises.base import KINDS
from book_tools.exercises.engine import as_numbers

IDS = list(EXERCISES)
MISTAKES = [(ex_id, i) for ex_id in IDS for i in range(len(EXERCISES[ex_id].mistakes))]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS
            if json.loads(p.read_text())["metadata"].get("cam_book", {}).get("kind") != "reference"]


def _expected(ex, case):
    return as_numbers(ex.reference(*copy.deepcopy(case.args)), "")


def _right(ex_id):
    """A right answer written independently of the reference, as a student would."""
    return {
        "preprocess": lambda image, mean, std: ((torch.from_numpy(image).permute(2, 0, 1) / 255.0
                                                 - torch.tensor(mean)[:, None, None])
                                                / torch.tensor(std)[:, None, None]).unsqueeze(0),
        "head": lambda f, W, b: torch.einsum("bkhw,ck->bc", f, W) / (f.shape[2] * f.shape[3]) + b,
        "cam": lambda f, W, c: np.einsum("k,khw->hw", W[c].numpy(), f[0].numpy()),
        "batch_cam": lambda f, W, classes: np.stack([(W[c][:, None, None] * f[b]).sum(0).numpy()
                                                    for b, c in enumerate(classes)]),
        "slic_distances": lambda image, centres, m, S: np.array([
            [[np.sqrt((image[y, x] - i) ** 2 + (m / S) ** 2 * ((y - r) ** 2 + (x - c) ** 2))
              for x in range(image.shape[1])] for y in range(image.shape[0])] for i, r, c in centres]),
        "slic_assign": lambda D, centres, S: np.array([
            [min((D[k, y, x], k) for k, (_, r, c) in enumerate(centres)
                 if abs(y - r) <= S and abs(x - c) <= S)[1]
             if any(abs(y - r) <= S and abs(x - c) <= S for _, r, c in centres) else -1
             for x in range(D.shape[2])] for y in range(D.shape[1])]),
        "mask_secam": lambda cam, mask: cam.mean(where=mask) * mask + cam.mean(where=~mask) * ~mask,
        "secam": lambda cam, segments: sum(np.where(segments == s, cam[segments == s].mean(), 0.0)
                                           for s in np.unique(segments)),
        "grad_cam": lambda A, dA: np.maximum(np.tensordot(dA.numpy().mean(axis=(1, 2)), A.numpy(), 1), 0),
        "guided_relu_grad": lambda z, R: R * (z > 0) * (R > 0),
        "deconv_relu_grad": lambda z, R: np.clip(R.numpy(), 0, None),
        "head_grad_cam": lambda A, head, c: (lambda leaf: (lambda g: np.maximum(np.einsum(
            "k,khw->hw", g[0][0].numpy().mean(axis=(1, 2)), A[0].numpy()), 0))(
            torch.autograd.grad(head(leaf)[0, c], leaf)))(A.clone().requires_grad_(True)),
        "seg_target": lambda logits, c: float((logits[0, c] * (logits[0].argmax(0) == c)).sum()),
        "ascent_step": lambda img, grad, s, d: torch.clamp(
            0.5 + (img + s * grad / grad.abs().mean() - 0.5) * (1 - d), 0, 1),
        "mass_share": lambda M, R: np.clip(M, 0, None)[R].sum() / max(np.clip(M, 0, None).sum(), 1e-300),
        "average_drop": lambda Y, O: float(np.mean([max(0.0, y - o) / y for y, o in zip(Y, O)]) * 100),
        "roi_target": lambda logits, c, roi: torch.stack(
            [logits[b, c][roi[b]].sum() for b in range(logits.shape[0])]),
        "channel_objective": lambda A, k: torch.einsum("bhw->b", A[:, k]) / (A.shape[2] * A.shape[3]),
        "cam_flops": lambda K, h, w, H, W, n: 2 * n * K * h * w + 2 * n * H * w * (h + W),
        "unnormalise": lambda x, mean, std: np.rint(255 * np.clip(np.moveaxis(x[0].numpy(), 0, -1) * np.array(std)
                                                                  + np.array(mean), 0, 1)).astype(np.uint8),
        "receptive_field": lambda layers: 1 + sum((k - 1) * int(np.prod([s for _, s in layers[:i]], dtype=int))
                                                  for i, (k, _) in enumerate(layers)),
        "pointing_game": lambda M, R: bool(R.ravel()[int(np.argmax(M.ravel()))]),
        "rank_correlation": lambda a, b: float(np.corrcoef(*[
            np.array([np.mean(np.flatnonzero(np.sort(v.ravel()) == x)) for x in v.ravel()]) for v in (a, b)])[0, 1]),
        "occlusion_passes": lambda H, W, p, s: 1 + len(range(p, H + 1, s)) * len(range(p, W + 1, s)),
        "attention_rollout": lambda attentions: functools.reduce(
            lambda R, a: (a.mean(axis=0) + np.eye(len(R))) / 2 @ R, attentions,
            np.eye(attentions[0].shape[-1]))[0][1:],
        "reshape_transform": lambda tokens, n_extra, h, w: np.moveaxis(tokens[:, n_extra:], 2, 1).reshape(
            len(tokens), tokens.shape[2], h, w),
    }[ex_id]


# --------------------------------------------------------------------------- #
# The registry
# --------------------------------------------------------------------------- #


def test_each_chapter_has_a_warm_up_and_a_transfer_task():
    for kind in KINDS:
        chapters = sorted(ex.chapter for ex in EXERCISES.values() if ex.kind == kind)
        assert chapters == sorted(p.stem for p in CHAPTERS), (kind, chapters)
    assert len({ex.function for ex in EXERCISES.values()}) == len(EXERCISES)
    for ex in EXERCISES.values():
        assert ex.function.startswith("my_") and ex.signature.startswith(ex.function + "(")
        assert ex.checker.__name__.startswith("check_") and ex.checker.__doc__
        assert len(ex.mistakes) >= 3, ex.id


# --------------------------------------------------------------------------- #
# Right answers, known mistakes
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("ex_id", IDS)
def test_a_right_answer_passes(ex_id):
    ex = EXERCISES[ex_id]
    for fn in (ex.reference, _right(ex_id)):
        result = ex.checker(fn)
        assert result.passed and result.attempted and bool(result), str(result)
        assert str(result).startswith("✓ ") and " is right: " in str(result)


@pytest.mark.parametrize(("ex_id", "i"), MISTAKES, ids=[f"{e}-{i}" for e, i in MISTAKES])
def test_each_known_mistake_fails_and_is_named(ex_id, i):
    ex = EXERCISES[ex_id]
    mistake = ex.mistakes[i]
    result = ex.checker(mistake.fn)
    assert not result.passed and result.attempted, str(result)
    assert str(result).startswith("✗ ")
    assert f"({mistake.name})" in result.message, result.message
    assert mistake.hint in result.message


@pytest.mark.parametrize("ex_id", IDS)
def test_the_inputs_tell_every_mistake_apart(ex_id):
    """On the first input where a mistake goes wrong, it differs from the answer and from every mistake listed
    before it — the checker tries them in order, so it names this one and no other."""
    ex = EXERCISES[ex_id]
    cases = ex.cases()

    def output(fn, case):
        try:
            with np.errstate(all="ignore"):
                out = as_numbers(fn(*copy.deepcopy(case.args)), "")
        except Exception:
            return None
        return out.reshape(()) if ex.returns == "scalar" and out.size == 1 else out

    def same(a, b):
        return a is not None and b is not None and a.shape == b.shape and np.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True)

    for n, mistake in enumerate(ex.mistakes):
        caught = [case for case in cases if not same(output(mistake.fn, case), _expected(ex, case))]
        assert caught, f"{mistake.name} gives the right answer on every input"
        case = caught[0]
        mine = output(mistake.fn, case)
        assert mine is not None, f"{mistake.name} raises instead of giving a wrong value"
        for other in ex.mistakes[:n]:
            theirs = output(other.fn, case)
            if not same(theirs, _expected(ex, case)):
                assert not same(mine, theirs), f"{mistake.name} and {other.name} look alike"


@pytest.mark.parametrize("ex_id", IDS)
def test_every_checker_is_fast(ex_id):
    ex = EXERCISES[ex_id]
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        ex.checker(ex.reference)
        ex.checker(ex.mistakes[-1].fn)
        best = min(best, time.perf_counter() - start)
    assert best < 0.3, f"{ex_id}: {best:.2f} s for two checks"


# --------------------------------------------------------------------------- #
# Errors in the student's code
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("ex_id", IDS)
def test_an_exception_is_reported_with_the_inputs(ex_id):
    def boom(*args):
        raise ValueError("something broke")

    result = EXERCISES[ex_id].checker(boom)
    assert not result.passed and result.attempted
    assert "raised ValueError: something broke" in result.message
    assert "(called with " in result.message


@pytest.mark.parametrize("ex_id", IDS)
def test_none_nan_and_wrong_shape_are_reported(ex_id):
    ex = EXERCISES[ex_id]
    expected = _expected(ex, ex.cases()[0])
    wrap = torch.from_numpy if ex.returns == "tensor" else (lambda a: a)

    def forgot_return(*args):
        _ = len(args)

    def nan(*args):
        return wrap(np.full(expected.shape, np.nan))

    def wrong_shape(*args):
        return wrap(np.zeros(expected.shape + (2,)))

    assert "returned None" in ex.checker(forgot_return).message
    result = ex.checker(nan)
    assert not result.passed and ("NaN" in result.message or "nan" in result.message), result.message
    result = ex.checker(wrong_shape)
    assert not result.passed and f"shape {expected.shape + (2,)}" in result.message, result.message


def test_a_stub_is_not_attempted():
    def my_cam(f, W, c):
        """Your code here."""
        # nothing yet
        ...

    result = EXERCISES["cam"].checker(my_cam)
    assert not result.passed and not result.attempted
    assert str(result).startswith("– my_cam is not attempted yet")
    result = EXERCISES["cam"].checker(lambda f, W, c: (_ for _ in ()).throw(NotImplementedError))
    assert not result.attempted


def test_wrong_types_and_generic_differences_are_explained():
    check_cam = EXERCISES["cam"].checker
    assert "returned a str" in check_cam(lambda f, W, c: "map").message
    right = EXERCISES["cam"].reference
    assert "times 3" in check_cam(lambda f, W, c: 3 * right(f, W, c)).message
    assert "plus a constant 1" in check_cam(lambda f, W, c: right(f, W, c) + 1).message
    assert "height and width are swapped" in check_cam(lambda f, W, c: right(f, W, c).T).message

    def one_cell_off(f, W, c):
        m = right(f, W, c).copy()
        m[1, 2] += 10
        return m

    message = check_cam(one_cell_off).message
    assert "1 of its 20 values differs" in message and "index (1, 2)" in message
    # The model takes tensors: a NumPy array from my_preprocess is refused with a way out.
    message = EXERCISES["preprocess"].checker(lambda image, mean, std: np.zeros((1, 3) + image.shape[:2])).message
    assert "torch tensor" in message and "torch.from_numpy" in message
    # A Python-level mistake gets an exercise-specific hint.
    message = EXERCISES["average_drop"].checker(lambda Y, O: 100 * np.mean(max(0, Y - O) / Y)).message
    assert "np.maximum" in message


def test_a_function_that_changes_its_inputs_does_not_fool_the_checker():
    def in_place(f, W, c):
        f.mul_(0)  # ruins the caller's tensor; the reference must not see it
        return f[0, 0]

    assert not EXERCISES["cam"].checker(in_place).passed
    assert EXERCISES["cam"].checker(EXERCISES["cam"].reference).passed


# --------------------------------------------------------------------------- #
# The result object, strict mode, grade()
# --------------------------------------------------------------------------- #


def test_check_result_reads_well_everywhere():
    result = CheckResult("cam", False, "my_cam is not right yet: it returned shape (1, 4, 5).", ("called with c=2",))
    assert not result and str(result).startswith("✗ my_cam is not right yet:")
    assert repr(result) == str(result) and "called with c=2" in str(result)
    assert result._repr_markdown_().startswith("✗ **my_cam is not right yet:** it returned shape")
    assert "- called with c=2" in result._repr_markdown_()
    assert CheckResult("cam", True, "my_cam is right: it matches.")


def test_strict_mode_raises_with_the_message():
    ex = EXERCISES["secam"]
    wrong = ex.mistakes[0]
    with pytest.raises(ExerciseFailed) as info:
        ex.checker(wrong.fn, strict=True)
    assert isinstance(info.value, AssertionError)
    assert str(info.value) == str(ex.checker(wrong.fn))
    assert ex.checker(ex.reference, strict=True).passed


def test_grade_runs_what_is_defined():
    results = grade({"my_cam": EXERCISES["cam"].reference, "my_secam": EXERCISES["secam"].mistakes[0].fn,
                     "my_head": 42, "unrelated": print})
    assert [r.exercise for r in results] == IDS
    by_id = {r.exercise: r for r in results}
    assert by_id["cam"].passed
    assert not by_id["secam"].passed and by_id["secam"].attempted
    assert not by_id["head"].passed and "expected a function" in by_id["head"].message
    missing = by_id["preprocess"]
    assert not missing.passed and not missing.attempted and "no function" in missing.message


# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #


def _student(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


RIGHT_CAM = "def my_cam(f, W, c):\n    return (W[c][:, None, None] * f[0]).sum(0)\n"


def test_cli_exit_codes_and_json(tmp_path, capsys):
    good = _student(tmp_path, "good.py", "print('noise')\n" + RIGHT_CAM)
    bad = _student(tmp_path, "bad.py", RIGHT_CAM + "def my_mass_share(heatmap, mask):\n    return mask.mean()\n")
    assert main(["check", good]) == 0
    out = capsys.readouterr().out
    assert "noise" not in out
    assert re.search(r"03_cam\s+my_cam\s+✓", out) and "my_slic_distances" not in out
    assert f"1 of {len(EXERCISES)} exercises attempted (--all lists the others), 1 right." in out
    assert main(["check", good, "--all"]) == 0
    assert re.search(r"04_slic\s+my_slic_distances\s+–", capsys.readouterr().out)
    assert main(["check", good, bad, "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 * len(EXERCISES)
    assert set(rows[0]) == {"file", "exercise", "chapter", "function", "attempted", "passed", "message"}
    wrong = [r for r in rows if r["file"] == bad and r["function"] == "my_mass_share"][0]
    assert wrong["attempted"] and not wrong["passed"] and "the area of the region" in wrong["message"]
    broken = _student(tmp_path, "broken.py", "raise RuntimeError('oops')\n")
    assert main(["check", good, broken]) == 2
    err = capsys.readouterr().err
    assert "broken.py" in err and "RuntimeError: oops" in err and "Traceback" not in err


def test_cli_reads_notebooks_without_running_them(tmp_path, capsys):
    cells = [
        "%matplotlib inline\nimport numpy as np\nimport torch\nimport not_a_module_anywhere",
        "raise RuntimeError('a chapter cell that loads a model must not run')",
        "def helper(x, net=model):  # its default needs a variable grading does not compute\n    return x",
        "!pip install nothing\n" + RIGHT_CAM + "\ncheck_cam(my_cam)",
        "def my_average_drop(Y, O):\n    return np.mean(np.maximum(0, Y - O) / Y)\nmy_average_drop(1, 2)",
    ]
    nb = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": c}
                    for c in cells] + [{"cell_type": "markdown", "metadata": {}, "source": "# Title"}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = _student(tmp_path, "student.ipynb", json.dumps(nb))
    namespace = load_student_file(path)
    assert callable(namespace["my_cam"]) and "check_cam" not in namespace
    assert main(["check", path, "--json"]) == 1
    rows = {r["function"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["my_cam"]["passed"]
    assert not rows["my_average_drop"]["passed"] and "not in percent" in rows["my_average_drop"]["message"]


def test_cli_grades_the_book_s_own_notebooks_as_not_attempted(capsys):
    # Every chapter in this process (what the command's child does), two through the command itself: each
    # file costs the command a child process that imports torch.
    for path in CHAPTERS:
        results = {r.exercise: r for r in grade(load_student_file(path))}
        for ex in EXERCISES.values():
            if ex.chapter == path.stem:
                assert not results[ex.id].attempted and "still the stub" in results[ex.id].message, results[ex.id]
    paths = [str(CHAPTERS[0]), str(CHAPTERS[-1])]
    assert main(["check", *paths, "--json"]) == 1  # nothing attempted is not a pass
    rows = json.loads(capsys.readouterr().out)
    for ex in EXERCISES.values():
        if ex.chapter in (CHAPTERS[0].stem, CHAPTERS[-1].stem):
            (row,) = [r for r in rows if r["file"].endswith(f"{ex.chapter}.ipynb") and r["exercise"] == ex.id]
            assert not row["attempted"] and "still the stub" in row["message"], row
    assert not any(r["attempted"] for r in rows)


def test_cli_notebook_that_cannot_define_an_exercise_function(tmp_path, capsys):
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": "@undefined_decorator\ndef my_cam(f, W, c):\n    return f"}
    path = _student(tmp_path, "broken.ipynb", json.dumps({"cells": [cell], "metadata": {}}))
    assert main(["check", path]) == 2
    assert "failed to define my_cam: NameError" in capsys.readouterr().err


def test_cli_missing_file(tmp_path, capsys):
    # main() is what `python -m tutorial_utils` runs; in-process keeps this file fast.
    assert main(["check", str(tmp_path / "nope.py")]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"error: {tmp_path / 'nope.py'}: no such file"
    assert captured.out == ""


# --------------------------------------------------------------------------- #
# The notebooks: one auto-checked exercise per chapter, stub and hidden solution
# --------------------------------------------------------------------------- #


def _cells(path):
    return json.loads(path.read_text())["cells"]


@pytest.mark.parametrize("ex_id", IDS)
def test_each_exercise_is_used_in_exactly_its_chapter(ex_id):
    ex = EXERCISES[ex_id]
    call = f"{ex.checker.__name__}({ex.function})"
    users = [p.stem for p in NOTEBOOKS for c in _cells(p) if c["cell_type"] == "code" and call in "".join(c["source"])]
    assert users == [ex.chapter], users


def _exercise_cells(ex):
    """The cell before the exercise's task, the task, the stub and the hidden solution."""
    cells = _cells(ROOT / "notebooks" / f"{ex.chapter}.ipynb")
    call = f"{ex.checker.__name__}({ex.function})"
    (i,) = [k for k, c in enumerate(cells) if c["cell_type"] == "code" and call in "".join(c["source"])]
    return ["".join(c["source"]) for c in cells[i - 2:i + 2]]


def _run_cell(source, namespace):
    """Run a cell as Jupyter does: the value of its last expression is what the reader sees."""
    tree = ast.parse(source)
    last = tree.body.pop() if isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, "<cell>", "exec"), namespace)
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace) if last else None


@pytest.mark.parametrize("ex_id", IDS)
def test_the_notebook_stub_is_friendly_and_the_hidden_solution_passes(ex_id):
    ex = EXERCISES[ex_id]
    before, task, stub, solution = _exercise_cells(ex)
    if ex.kind == "warm-up":
        assert before.rstrip().endswith("## Exercises"), "the warm-up opens the Exercises section"
        assert task.startswith("**1. Auto-checked: ") and f"`{ex.function}`" in task
    else:
        # The transfer task follows the warm-up's hidden solution.
        warm_up = next(w for w in EXERCISES.values() if w.chapter == ex.chapter and w.kind == "warm-up")
        assert f"{warm_up.function}(" in before and before.startswith("<details>"), "the transfer task follows the warm-up"
        assert task.startswith("**2. Transfer, auto-checked: ") and f"`{ex.function}`" in task
    assert f"from book_tools import {ex.checker.__name__}" in stub

    shown = _run_cell(stub, {"np": np, "torch": torch})
    assert isinstance(shown, CheckResult) and not shown.passed and not shown.attempted
    assert "not attempted yet" in str(shown)

    assert solution.startswith("<details>\n<summary>Solution</summary>") and solution.rstrip().endswith("</details>")
    (code,) = re.findall(r"```python\n(.*?)```", solution, re.S)
    namespace = {"np": np, "torch": torch, ex.checker.__name__: ex.checker}
    shown = _run_cell(code, namespace)
    assert ex.checker(namespace[ex.function]).passed, str(ex.checker(namespace[ex.function]))
    assert shown is None or shown.passed
