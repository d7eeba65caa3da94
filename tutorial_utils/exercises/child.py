r"""Where a student's code runs: :func:`load_student_file`, and the child process of ``python -m tutorial_utils check``.

This is the only module that runs a student's file. :func:`load_student_file`
loads one into a namespace — a ``.py`` file as a script, a notebook's imports
and definitions only — with its output thrown away; :func:`grade` of
:mod:`tutorial_utils.exercises.registry` can then check it in the same process.

The grader (:mod:`tutorial_utils.exercises.grading`) never does that in its own
process: it starts ``python -c`` with a few bootstrap lines that call
:func:`child_main`. The child binds what it needs — its pipes to the parent,
the test inputs, :func:`~tutorial_utils.exercises.engine.call_answer` — before
it loads the file, then reports what each function did as plain messages, one
JSON object a line: ``ready``, ``loaded`` (or ``load_failed``), and for each
exercise ``start``, then ``missing``, ``stub``, ``not_callable`` or
``attempt`` followed by one ``outcome`` per test input, each answered by the
parent's ``next`` or ``stop``; ``finished`` at the end. It makes no verdict.

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
import io
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


class _Discard(io.TextIOBase):
    """A text stream that forgets what is written to it: a student's megabytes of output cost no memory."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def _first_line(err: BaseException) -> str:
    text = safe_str(err).strip()
    return text.splitlines()[0] if text else ""


def _notebook_source(path: Path) -> list[tuple[int, ast.stmt]]:
    """The imports, function and class definitions of a notebook's code cells — nothing else runs.

    Lines that start with ``%`` or ``!`` (IPython magics and shell commands) are
    dropped, and so is every other statement: a chapter's cells load models and
    run experiments, which grading does not need; calls of ``check_…`` are never
    run.
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
                raise StudentFileError(f"{path}: code cell {i + 1} has a syntax error: {err.msg} (line {err.lineno})") from None
            continue  # a cell we would not run anyway
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kept.append((i, node))
    return kept


def load_student_file(path) -> dict:
    """The namespace of a student's ``.py`` file (run in a fresh namespace) or ``.ipynb`` notebook.

    A ``.py`` file runs as a script would (with ``__name__ == "__student__"``);
    of a notebook only the imports and the function and class definitions of
    its code cells run, so that grading never loads a model or runs an
    experiment; one that fails (a missing package, a default value that needs
    a variable of the chapter) is skipped, unless it defines an exercise's
    function. Output printed by the file is swallowed.

    Raises :class:`StudentFileError` (one line naming the file) when the file is
    missing, is not a notebook it claims to be, or raises while running.
    """
    p = Path(path)
    if not p.is_file():
        raise StudentFileError(f"{path}: no such file")
    with contextlib.redirect_stdout(_Discard()), contextlib.redirect_stderr(_Discard()), warnings.catch_warnings():
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
                except BaseException as err:  # noqa: BLE001 — SystemExit too: it must not end the grader
                    # An import that fails here, or a chapter's helper whose default value needs a
                    # variable that grading does not compute (`def f(x, net=model)`), is skipped;
                    # an exercise's own function must be defined.
                    if getattr(node, "name", None) in exercise_functions:
                        text = _first_line(err)
                        raise StudentFileError(
                            f"{path}: code cell {i + 1} failed to define {node.name}: {type(err).__name__}"
                            + (f": {text}" if text else "")
                        ) from None
            return namespace
        try:
            return runpy.run_path(str(p), run_name="__student__")
        except BaseException as err:  # noqa: BLE001 — a student's SystemExit must not end the grader either
            if isinstance(err, KeyboardInterrupt):
                raise
            text = _first_line(err)
            raise StudentFileError(f"{path}: failed to run: {type(err).__name__}" + (f": {text}" if text else "")) from None


# --------------------------------------------------------------------------- #
# The child process
# --------------------------------------------------------------------------- #


class _Channel:
    """The child's end of its pipes to the parent: private descriptors made by the grader's bootstrap lines, and the null device."""

    def __init__(self, out_fd: int, in_fd: int, null_fd: int):
        self._out, self._in, self._null = out_fd, os.fdopen(in_fd, "rb"), null_fd

    def silence_stderr(self) -> None:
        sys.stderr.flush()
        os.dup2(self._null, 2)

    def send(self, **message) -> None:
        data = memoryview((json.dumps(message, ensure_ascii=True) + "\n").encode("ascii"))
        while data:
            data = data[os.write(self._out, data):]

    def send_outcome(self, outcome: Outcome) -> None:
        message = {"event": "outcome", "kind": outcome.kind, "text": outcome.text[:MAX_TEXT],
                   "error_type": outcome.error_type[:100]}
        if outcome.kind == "value":
            got = np.ascontiguousarray(outcome.got, dtype="<f8")
            message["shape"] = [int(n) for n in got.shape]
            message["data"] = None if got.size > MAX_VALUES else base64.b64encode(got.tobytes()).decode("ascii")
        self.send(**message)

    def receive(self) -> str:
        return self._in.readline().strip().decode("ascii", "replace")


def _without_prefix(text: str, path: str) -> str:
    prefix = f"{path}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def _exit_with_parent(parent: int, getppid, sleep, exit_now) -> None:
    """End the child when the grader is gone (killed, not interrupted), even in a student's endless loop."""
    while getppid() == parent:
        sleep(0.5)
    exit_now(4)


def child_main(fds: tuple[int, int, int], path: str, ids: list[str]) -> None:
    """Grade the exercises ``ids`` of the file at ``path`` and report to the parent; never returns.

    ``fds`` are the private descriptors that the grader's bootstrap lines made
    (to the parent, from the parent, the null device) before anything was imported.

    Everything the grading needs — the channel to the parent, the test inputs,
    the functions that call and inspect the student's code — is bound here
    before the file is loaded. The child makes no verdict: it says what each
    function did and the parent judges.
    """
    channel = _Channel(*fds)
    watchdog = (os.getppid(), os.getppid, time.sleep, os._exit)  # bound now: a student may replace them later
    threading.Thread(target=_exit_with_parent, args=watchdog, daemon=True).start()
    try:
        import torch

        torch.set_num_threads(1)
        exercises = [EXERCISES[i] for i in ids]
        cases = {ex.id: ex.cases() for ex in exercises}
        call, inspect, outcome_of_error = call_answer, inspect_answer, Outcome
    except BaseException as err:  # noqa: BLE001 — our own failure: say so, and end
        channel.send(event="broken", reason=f"{type(err).__name__}: {safe_str(err)}"[:500])
        os._exit(3)
    channel.send(event="ready")
    channel.silence_stderr()
    try:
        namespace = load_student_file(path)
    except StudentFileError as err:
        channel.send(event="load_failed", reason=_without_prefix(safe_str(err), path)[:MAX_TEXT])
        os._exit(0)
    except BaseException as err:  # noqa: BLE001 — anything a file can raise while loading
        channel.send(event="load_failed", reason=f"failed to run: {type(err).__name__}")
        os._exit(0)
    channel.send(event="loaded")
    for ex in exercises:
        channel.send(event="start", exercise=ex.id)
        fn = dict.get(namespace, ex.function) if isinstance(namespace, dict) else None
        if fn is None:
            channel.send(event="missing")
            continue
        try:
            name, status, type_name = inspect(ex, fn)
        except BaseException:  # noqa: BLE001 — an object that fails even to be looked at: call it and see
            name, status, type_name = ex.function, "function", ""
        channel.send(event="attempt" if status == "function" else status, name=name, type=type_name)
        if status != "function":
            continue
        for case in cases[ex.id]:
            try:
                outcome = call(ex, fn, case)
            except BaseException as err:  # noqa: BLE001 — KeyboardInterrupt, which call_answer lets through in a notebook
                outcome = outcome_of_error("raised", text=safe_str(err), error_type=type(err).__name__)
            channel.send_outcome(outcome)
            if channel.receive() != "next":
                break
    channel.send(event="finished")
    os._exit(0)
