r"""Where a student's code runs: :func:`load_student_file`, and the child process of ``python -m tutorial_utils check``.

This is the only module that runs a student's file. :func:`load_student_file` loads one into a namespace — a
``.py`` file as a script, a notebook's imports and definitions only — with its output thrown away;
:func:`~book_tools.exercises.registry.grade` can then check it in the same process.

The grader (:mod:`book_tools.exercises.grading`) runs :func:`child_main` in a child process instead. It writes
one JSON object a line to the parent and makes no verdict: ``ready`` once the test inputs are built, ``loaded``
(or ``load_failed``), then for each exercise ``exercise`` with a ``status`` (``missing``, ``stub``,
``not_callable`` or ``function``) and, for a function, one ``outcome`` per test input — what it returned, an
:class:`~book_tools.exercises.engine.Outcome` — each answered by the parent's ``next`` or ``stop``.

>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "answer.py"
>>> _ = path.write_text("print('hello')\ndef my_cam(f, W, c):\n    return f[0].sum(0)\n")
>>> sorted(name for name in load_student_file(path) if name.startswith("my_"))
['my_cam']
"""

from __future__ import annotations

import ast
import base64
import contextlib
import json
import os
import runpy
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from .engine import Outcome, call_answer, inspect_answer, safe_str
from .registry import EXERCISES

__all__ = ["MAX_TEXT", "MAX_VALUES", "StudentFileError", "child_main", "load_student_file"]

MAX_VALUES = 1 << 20
"""Numbers a child sends back for one result; a larger result is judged by its shape alone."""
MAX_TEXT = 10_000
"""Characters of an exception's message that a child sends back."""


# --------------------------------------------------------------------------- #
# Loading a student's file
# --------------------------------------------------------------------------- #


class StudentFileError(Exception):
    """A student's file is missing or cannot be loaded; ``str(err)`` is one line that names the file."""


def _failure(err: BaseException) -> str:
    """The exception's type and the first line of its message: ``ValueError: bad input``."""
    text = safe_str(err).strip()
    return type(err).__name__ + (f": {text.splitlines()[0]}" if text else "")


def _notebook_source(path: Path) -> list[tuple[int, ast.stmt]]:
    """The imports, function and class definitions of a notebook's code cells, with their cell numbers.

    Nothing else runs — not magics (``%``), shell lines (``!``), experiments, or calls of ``check_…``.
    """
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise StudentFileError(f"{path}: not a readable notebook ({type(err).__name__}: {err})") from None
    names = {ex.function for ex in EXERCISES.values()}
    kept = []
    for i, cell in enumerate(cells):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as err:
            if any(f"def {n}" in source for n in names):
                raise StudentFileError(f"{path}: code cell {i + 1} has a syntax error: {err.msg} "
                                       f"(line {err.lineno})") from None
            continue  # a cell we would not run anyway
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kept.append((i, node))
    return kept


def load_student_file(path) -> dict:
    """The namespace of a student's ``.py`` file (run as a script, ``__name__ == "__student__"``) or notebook.

    Of a notebook only the imports and the function and class definitions of its code cells run, so that grading
    never loads a model; one that fails (a missing package, a default value that needs a variable of the chapter)
    is skipped, unless it defines an exercise's function. What the file prints is thrown away.

    Raises :class:`StudentFileError` (one line naming the file) when the file is missing, is not a notebook it
    claims to be, or raises while running.
    """
    p = Path(path)
    if not p.is_file():
        raise StudentFileError(f"{path}: no such file")
    with open(os.devnull, "w") as null, contextlib.redirect_stdout(null), contextlib.redirect_stderr(null), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if p.suffix == ".ipynb":
            namespace: dict = {"__name__": "__student__"}
            exercise_functions = {ex.function for ex in EXERCISES.values()}
            for i, node in _notebook_source(p):
                code = compile(ast.Module(body=[node], type_ignores=[]), f"{p} (code cell {i + 1})", "exec")
                try:
                    exec(code, namespace)
                except KeyboardInterrupt:
                    raise
                except BaseException as err:  # noqa: BLE001 — SystemExit too; skipped unless it defines an exercise
                    if getattr(node, "name", None) in exercise_functions:
                        raise StudentFileError(f"{path}: code cell {i + 1} failed to define {node.name}: "
                                               f"{_failure(err)}") from None
            return namespace
        try:
            return runpy.run_path(str(p), run_name="__student__")
        except KeyboardInterrupt:
            raise
        except BaseException as err:  # noqa: BLE001 — a student's SystemExit must not end the grader either
            raise StudentFileError(f"{path}: failed to run: {_failure(err)}") from None


# --------------------------------------------------------------------------- #
# The child process
# --------------------------------------------------------------------------- #


def _outcome_message(outcome: Outcome) -> dict:
    """An outcome as a message; the numbers as float64 bytes in base64, unless there are more than MAX_VALUES."""
    message = {"event": "outcome", "kind": outcome.kind, "text": outcome.text[:MAX_TEXT],
               "error_type": outcome.error_type[:100]}
    if outcome.kind == "value":
        got = np.ascontiguousarray(outcome.got, dtype="<f8").reshape(np.shape(outcome.got))  # a number stays 0-d
        message["shape"] = list(got.shape)
        message["data"] = None if got.size > MAX_VALUES else base64.b64encode(got.tobytes()).decode("ascii")
    return message


def _exit_with_parent(parent: int, getppid, sleep, exit_now) -> None:
    """End the child when the grader is gone (killed, not interrupted), even in a student's endless loop."""
    while getppid() == parent:
        sleep(0.5)
    exit_now(4)


def child_main(fds: tuple[int, int, int], path: str, ids: list[str]) -> None:
    """Tell the parent what the file at ``path`` does for the exercises ``ids``; never returns.

    ``fds`` are the private descriptors that the grader's bootstrap lines made before any import: to the parent,
    from the parent, the null device. Until ``ready``, only the grader's code runs, and its errors go to the
    standard error that the parent reads; then the standard error goes to the null device too.
    """
    to_parent, from_parent = os.fdopen(fds[0], "w", encoding="ascii"), os.fdopen(fds[1], "rb")

    def send(**message) -> None:
        to_parent.write(json.dumps(message) + "\n")
        to_parent.flush()

    watchdog = (os.getppid(), os.getppid, time.sleep, os._exit)  # bound now: a student may replace them later
    threading.Thread(target=_exit_with_parent, args=watchdog, daemon=True).start()
    import torch

    torch.set_num_threads(1)
    exercises = [EXERCISES[i] for i in ids]
    cases = {ex.id: ex.cases() for ex in exercises}  # built before a student's code can change how
    exit_now = os._exit
    send(event="ready")
    sys.stderr.flush()
    os.dup2(fds[2], 2)
    try:
        namespace = load_student_file(path)
    except BaseException as err:  # noqa: BLE001 — anything a file can raise while loading
        reason = safe_str(err).removeprefix(f"{path}: ") if isinstance(err, StudentFileError) else \
            f"failed to run: {type(err).__name__}"
        send(event="load_failed", reason=reason[:MAX_TEXT])
        exit_now(0)
    send(event="loaded")
    for ex in exercises:
        fn = dict.get(namespace, ex.function)
        if fn is None:
            send(event="exercise", exercise=ex.id, status="missing")
            continue
        try:
            name, status, type_name = inspect_answer(ex, fn)
        except BaseException:  # noqa: BLE001 — an object that fails even to be looked at: call it and see
            name, status, type_name = ex.function, "function", ""
        send(event="exercise", exercise=ex.id, status=status, name=name, type=type_name)
        for case in cases[ex.id] if status == "function" else ():
            try:
                outcome = call_answer(ex, fn, case)
            except BaseException as err:  # noqa: BLE001 — KeyboardInterrupt, which call_answer lets through
                outcome = Outcome("raised", text=safe_str(err), error_type=type(err).__name__)
            send(**_outcome_message(outcome))
            if from_parent.readline().strip() != b"next":
                break
    exit_now(0)
