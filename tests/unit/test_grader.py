"""`python -m tutorial_utils check` runs students' code: hostile answers cannot end it, hang it, flood its output
or change its verdict. Each file is graded in a child process that imports torch (a few seconds), so the
hostile answers share a few files and the time limit is short."""

import base64
import json
import re
import subprocess
import sys

import numpy as np
import pytest
import torch

import tutorial_utils.cam
from book_tools import EXERCISES, check_cam, grade
from book_tools.cli import main
from book_tools.exercises.grading import _clean, _decode_numbers, _decode_outcome, _how, grade_files
from book_tools.exercises import load_student_file
from book_tools.exercises.child import _outcome_message
from book_tools.exercises.engine import Outcome

TIMEOUT = 2  # seconds per exercise: enough for every right answer here, short enough to keep the tests fast

RIGHT_CAM = "def my_cam(f, W, c):\n    return (W[c][:, None, None] * f[0]).sum(0)\n"

HOSTILE = '''
import os, sys
import numpy as np
import torch

print("x" * 3_000_000)                  # megabytes on stdout and stderr while loading
sys.stderr.write("y" * 3_000_000)
os.write(1, b"z" * 1_000_000)

def my_preprocess(image, mean, std):    # right
    x = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1))[None]

def my_head(f, W, b):                   # ends its process: the grader starts a new one for the rest
    os._exit(0)

def my_cam(f, W, c):                    # used to make the command exit 0 and print nothing
    sys.exit(0)

def my_slic_distances(image, centres, m, S):
    while True:                         # hangs: killed after the time limit
        pass

def my_secam(cam, segments):            # right, after printing megabytes
    print("flood " * 1_000_000)
    os.write(2, b"w" * 1_000_000)
    _, index = np.unique(segments, return_inverse=True)
    index = index.reshape(segments.shape)
    return (np.bincount(index.ravel(), cam.ravel()) / np.bincount(index.ravel()))[index]

def my_grad_cam(A, dA):
    raise KeyboardInterrupt

def my_seg_target(logits, c):           # wrong, with a name that tries to print a line of its own
    return logits[0, c].sum()
my_seg_target.__name__ = "x\\n  03_cam  my_cam  ✓  forged"

calls = []

def my_mass_share(heatmap, mask):       # wrong on the first input, endless on the second: never called again
    calls.append(1)
    while len(calls) > 1:
        pass
    return mask.mean()

def my_average_drop(Y, O):              # right
    return 100 * np.mean(np.maximum(0, Y - O) / Y)
'''

CHEAT = '''
import numpy as np
import tutorial_utils
import tutorial_utils.cam
import book_tools.exercises as exercises
import book_tools.exercises.cam as cam_exercise
import book_tools.exercises.engine as engine

def transposed(f, W, c):
    return (W[:, c][:, None, None] * f[0]).sum(0)

# Everything a checker in this process would compare against says that `transposed` is right.
tutorial_utils.cam.class_activation_map = transposed
tutorial_utils.class_activation_map = transposed
cam_exercise._cam_reference = transposed
engine._close = lambda *args, **kwargs: True
engine.judge = lambda *args, **kwargs: None
exercises.check_cam = lambda fn, **kwargs: exercises.CheckResult("cam", True, "my_cam is right")
exercises.EXERCISES["cam"] = exercises.EXERCISES["cam"].__class__(
    **{**exercises.EXERCISES["cam"].__dict__, "reference": transposed, "mistakes": ()})
np.allclose = lambda *args, **kwargs: True
np.isclose = lambda a, b, **kwargs: np.ones(np.shape(a), dtype=bool)

def my_cam(f, W, c):
    return transposed(f, W, c)

def my_average_drop(Y, O):              # a right answer is still right in a patched process
    return 100 * float(np.mean(np.maximum(0, Y - O) / Y))
'''


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _rows(text):
    """{function: (symbol, message)} of the command's text output for one file."""
    return {m[1]: (m[2], m[3]) for m in re.finditer(r"^  \S+\s+(my_\w+)\s+([✓✗–])  (.*)$", text, re.M)}


def test_hostile_answers_each_get_a_verdict_and_the_others_are_still_graded(tmp_path):
    """The command itself, as an instructor runs it: every attempted exercise has a line, the exit code is 1."""
    path = _write(tmp_path, "hostile.py", HOSTILE)
    run = subprocess.run([sys.executable, "-m", "tutorial_utils", "check", path, "--timeout", str(TIMEOUT)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, (run.stdout, run.stderr)
    assert len(run.stdout) < 5000 and len(run.stderr) < 2000, "a student's output reached the grader's"
    assert not re.search("xxxxxxxxxx|yyyyyyyyyy|zzzzzzzzzz|wwwwwwwwww|flood flood", run.stdout + run.stderr)
    rows = _rows(run.stdout)
    assert set(rows) == {"my_preprocess", "my_head", "my_cam", "my_slic_distances", "my_secam", "my_grad_cam",
                         "my_seg_target", "my_mass_share", "my_average_drop"}, run.stdout
    for right in ("my_preprocess", "my_secam", "my_average_drop"):
        assert rows[right][0] == "✓", rows[right]
    for wrong in ("my_head", "my_cam", "my_slic_distances", "my_grad_cam", "my_seg_target", "my_mass_share"):
        assert rows[wrong][0] == "✗", rows[wrong]
    assert "it ended its process (exit status 0) (called with f (tensor)" in rows["my_head"][1]
    assert "it called sys.exit(0), which ends the whole program" in rows["my_cam"][1]
    assert f"it ran out of time ({TIMEOUT} s) (called with image" in rows["my_slic_distances"][1]
    assert "it raised KeyboardInterrupt" in rows["my_grad_cam"][1]
    # The name sent by the child is not trusted: no forged line, the exercise's own name instead.
    assert rows["my_seg_target"][1].startswith("my_seg_target is not right yet (no mask)")
    assert run.stdout.count("✓") == 3 and "forged" not in run.stdout
    # Wrong on the first input: the verdict says so, and the function is not called on the second (endless)
    # one — else the next exercise, my_average_drop, would have run out of time instead of passing.
    assert "(the area of the region)" in rows["my_mass_share"][1]
    assert f"9 of {len(EXERCISES)} exercises attempted (--all lists the others), 3 right." in run.stdout


def test_monkeypatching_the_library_cannot_change_the_verdict(tmp_path, capsys):
    cheat = _write(tmp_path, "cheat.py", CHEAT)
    right = _write(tmp_path, "right.py", RIGHT_CAM)
    original = tutorial_utils.cam.class_activation_map
    assert main(["check", cheat, right, "--json", "--timeout", str(TIMEOUT), "--jobs", "2"]) == 1
    rows = {(r["file"], r["function"]): r for r in json.loads(capsys.readouterr().out)}
    assert set(next(iter(rows.values()))) == {"file", "exercise", "chapter", "function", "attempted", "passed",
                                               "message"}
    assert not rows[cheat, "my_cam"]["passed"] and "(transposed weights)" in rows[cheat, "my_cam"]["message"]
    assert rows[cheat, "my_average_drop"]["passed"]
    assert rows[right, "my_cam"]["passed"]
    # The student's code never ran in this process.
    assert tutorial_utils.cam.class_activation_map is original
    assert np.allclose(1, 2) is False


def test_the_command_and_the_checkers_in_a_notebook_say_the_same(tmp_path, capsys):
    """Every exercise's answer travels from the child to the verdict as in-process checking sees it."""
    text = "from book_tools import EXERCISES\n" + "".join(
        f"{ex.function} = EXERCISES[{ex.id!r}].{'reference' if i % 3 == 0 else f'mistakes[{i % len(ex.mistakes)}].fn'}\n"
        for i, ex in enumerate(EXERCISES.values()))
    path = _write(tmp_path, "mixed.py", text)
    assert main(["check", path, "--json", "--timeout", "10"]) == 1
    rows = json.loads(capsys.readouterr().out)
    here = grade(load_student_file(path))
    assert [(r["exercise"], r["passed"], r["attempted"], r["message"]) for r in rows] == [
        (r.exercise, r.passed, r.attempted, r.message) for r in here]
    assert sum(r["passed"] for r in rows) == len(range(0, len(EXERCISES), 3)) and all(r["attempted"] for r in rows)


def test_a_right_file_exits_0(tmp_path, capsys):
    right = _write(tmp_path, "right.py", "import sys\nprint('hello')\n" + RIGHT_CAM)
    assert main(["check", right, "--timeout", str(TIMEOUT)]) == 0
    captured = capsys.readouterr()
    assert re.search(r"03_cam\s+my_cam\s+✓  my_cam is right", captured.out) and "hello" not in captured.out
    assert captured.err == ""


def test_files_that_fail_while_loading_exit_2_with_one_line_each(tmp_path, capsys):
    bad = {
        "exits.py": ("import sys\nsys.exit(0)\n" + RIGHT_CAM, "failed to run: SystemExit: 0"),
        "os_exit.py": ("import os\nos._exit(0)\n", "ended its process while loading (exit status 0)"),
        "loops.py": ("while True:\n    pass\n", f"ran out of time while loading ({TIMEOUT} s)"),
        "syntax.py": ("def my_cam(f, W, c)\n    return f\n", "failed to run: SyntaxError: expected ':'"),
        "raises.py": ("raise ValueError('line one\\nline two')\n", "failed to run: ValueError: line one"),
    }
    paths = {name: _write(tmp_path, name, text) for name, (text, _) in bad.items()}
    right = _write(tmp_path, "right.py", RIGHT_CAM)
    missing = str(tmp_path / "missing.py")
    assert main(["check", *paths.values(), right, missing, "--timeout", str(TIMEOUT), "--jobs", "2"]) == 2
    captured = capsys.readouterr()
    errors = captured.err.strip().splitlines()
    assert len(errors) == len(bad) + 1, errors
    for (name, (_, reason)), line in zip(bad.items(), errors):
        assert line.startswith(f"error: {paths[name]}: {reason}"), line
    assert errors[-1] == f"error: {missing}: no such file"
    # The file that loads is still graded, and only it is listed on stdout.
    assert re.search(r"03_cam\s+my_cam\s+✓", captured.out) and captured.out.startswith(right)
    assert "exits.py" not in captured.out


# --------------------------------------------------------------------------- #
# Pieces that need no child process
# --------------------------------------------------------------------------- #


def test_in_a_notebook_a_checker_reports_sys_exit_instead_of_ending_the_cell():
    def my_cam(f, W, c):
        sys.exit("done")

    result = check_cam(my_cam)
    assert not result.passed and result.attempted
    assert "it called sys.exit('done'), which ends the whole program (called with f (tensor)" in result.message


def test_what_a_child_sends_is_checked_before_it_is_believed():
    assert _decode_numbers([2, 3], None) is None  # small results must be sent
    assert _decode_numbers([2, "3"], "") is None and _decode_numbers("(2, 3)", "") is None
    assert _decode_numbers([2], "AAAA") is None  # 3 bytes for 2 numbers
    good = np.arange(6.0).reshape(2, 3)
    data = base64.b64encode(good.astype("<f8").tobytes()).decode()
    assert np.array_equal(_decode_numbers([2, 3], data), good)
    assert _decode_numbers([2, 3], data + "!") is None
    huge = _decode_numbers([5000, 5000], None)  # too many to send: judged by its shape alone
    assert huge.shape == (5000, 5000) and np.isnan(huge[0, 0])
    assert _decode_outcome({"kind": "passed"}) is None
    assert _decode_outcome({"kind": "value", "shape": [1], "data": 5}) is None
    outcome = _decode_outcome({"kind": "raised", "error_type": "Value\nError", "text": "a\x1b[2Jb\nc"})
    assert outcome.error_type == "Value Error" and outcome.text == "a [2Jb\nc"
    assert _clean("x" * 20, 5) == "xxxxx…" and _clean(None, 5) == "" and _clean("a\ud800b", 9) == "a b"
    assert _how(0) == "exit status 0" and _how(-9) == "killed by SIGKILL"
    # A single number travels as a single number (shape ()), not as an array of one: the verdicts differ.
    for value in (np.float64(2.5), np.arange(6.0).reshape(2, 3).T):
        message = _outcome_message(Outcome("value", got=np.asarray(value)))
        assert np.array_equal(_decode_outcome(message).got, value) and _decode_outcome(message).got.shape == value.shape


def test_the_time_limit_must_be_positive(capsys):
    with pytest.raises(SystemExit):
        main(["check", "x.py", "--timeout", "0"])
    assert "positive" in capsys.readouterr().err
    with pytest.raises(ValueError):
        grade_files(["x.py"], timeout=-1)


def _same_input(x, y):
    """Equal test inputs: arrays and tensors by value, lists and tuples (of arrays too) item by item."""
    if isinstance(x, (list, tuple)):
        return isinstance(y, type(x)) and len(x) == len(y) and all(map(_same_input, x, y))
    if isinstance(x, (np.ndarray, torch.Tensor)):
        return np.array_equal(np.asarray(x), np.asarray(y))
    return x == y


def test_the_registry_is_what_the_child_reports_on():
    # The child and the parent build the same test inputs: the cases are deterministic.
    for ex in EXERCISES.values():
        for a, b in zip(ex.cases(), ex.cases()):
            assert a.text == b.text
            for x, y in zip(a.args, b.args):
                assert _same_input(x, y), (ex.id, a.text)
