r"""Grading students' files, whose code is untrusted, in child processes: ``python -m tutorial_utils check``.

This process never runs a student's code. For each file it starts a child process
(:func:`~book_tools.exercises.child.child_main`) that builds the test inputs, sends whatever the student prints to
the null device, loads the file and calls each exercise's function on each test input, writing one JSON line per
call on a private pipe: the numbers returned (as float64 bytes), the exception raised (``sys.exit`` is one), ``None``…
The verdict is made here, against the references and known mistakes in this process's memory, which no student code
reaches: monkeypatching the library in the child changes at most what the student's function returns, and a ✓ still
needs the right numbers. After each call this process answers ``next`` or ``stop`` (as in a notebook, a function
that failed is not called again). Loading and each exercise have ``timeout`` seconds; when an exercise runs out of
time or ends the child (``os._exit``, a crash), the child is killed with its process group, the exercise gets a ✗
saying so, and a new child grades the exercises that remain — only then is torch imported again. ``jobs`` files are
graded at once, a thread each; Ctrl-C ends every child. It is not a sandbox: the child runs as the grader's user,
with its files, network and memory. Grade untrusted submissions as an unprivileged user, in a container or a VM.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .child import MAX_TEXT, MAX_VALUES
from .engine import (CheckResult, Exercise, Outcome, judge, missing_verdict, passed_verdict, reference_answer,
                     verdict_before_calling)
from .registry import EXERCISES

__all__ = ["CHECK_TIMEOUT", "FileReport", "grade_files"]

CHECK_TIMEOUT = 20.0
"""Seconds allowed for loading a file and for each exercise, unless ``--timeout`` says otherwise."""
STARTUP_LIMIT = 300.0  # seconds for a child to import torch and the book: not the student's time
MAX_MESSAGE = 64 << 20  # bytes in one line from a child
_JUDGING = threading.Lock()  # one verdict at a time: the checkers change process-wide warning filters
_KINDS = frozenset({"value", "none", "not_tensor", "wrong_type", "raised", "not_implemented", "exited"})
_EOF, _TIMEOUT, _GARBLED = "end of file", "out of time", "garbled"  # what receive() says instead of a message


@dataclass
class FileReport:
    """What grading one file gave: a result per exercise, and ``error`` (a line naming the file) if it did not load."""

    path: str
    results: list[CheckResult] = field(default_factory=list)
    error: str | None = None


def grade_files(paths: Sequence[str], *, timeout: float = CHECK_TIMEOUT, jobs: int | None = None) -> list[FileReport]:
    """Grade each file in child processes of its own; one :class:`FileReport` per path, in order.

    ``timeout`` is the time limit, in seconds, for loading a file and for each exercise; ``jobs`` how many files
    are graded at the same time (default: the number of CPUs, at most 4).

    >>> grade_files(["no_such_answer.py"])[0].error
    'no_such_answer.py: no such file'

    Raises ``ValueError`` for a ``timeout`` that is not a positive number of seconds; never raises for anything a
    student's file does.
    """
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    children = _Children()
    pool = ThreadPoolExecutor(max(1, jobs or min(4, os.cpu_count() or 1)))
    try:
        return list(pool.map(lambda path: _grade_file(str(path), timeout, children), paths))
    finally:
        children.stop_all()  # after Ctrl-C: every child ends now, so do the threads, and no new child starts
        pool.shutdown(cancel_futures=True)


def _grade_file(path: str, timeout: float, children: _Children) -> FileReport:
    if not Path(path).is_file():
        return FileReport(path, error=f"{path}: no such file")
    results: dict[str, CheckResult] = {}
    error = None
    while error is None and len(results) < len(EXERCISES):
        remaining = [ex_id for ex_id in EXERCISES if ex_id not in results]
        try:
            with children.start(path, remaining) as child:
                error = _load(child, path, timeout)
                for ex_id in remaining if error is None else ():
                    results[ex_id], alive = _grade_exercise(child, EXERCISES[ex_id], timeout)
                    if not alive:  # it ran out of time or ended its process: a new child for the rest
                        break
        except OSError as err:  # no process could be started (too many open files, no memory): not the file's fault
            error = f"{path}: the grader could not start a child process ({type(err).__name__}: {err})"
    if error is not None and not results:
        return FileReport(path, error=error)
    for ex_id in EXERCISES.keys() - results.keys():  # the file loaded once, then failed to load for a new child
        results[ex_id] = CheckResult(ex_id, False, f"{EXERCISES[ex_id].function} was not graded: the file failed to "
                                                   "load again.", attempted=False)
    return FileReport(path, [results[ex_id] for ex_id in EXERCISES], error)


def _load(child: _Child, path: str, timeout: float) -> str | None:
    """Wait for ``child`` to start and to load the file; a line naming the file if it does not."""
    message = child.receive(STARTUP_LIMIT)
    if message == _TIMEOUT:
        return f"{path}: the grader's child process did not start within {STARTUP_LIMIT:g} s"
    if not _is(message, "ready"):
        how, detail = _how(child.end()), child.last_error_line()
        return f"{path}: the grader's child process failed to start ({how})" + (f": {detail}" if detail else "")
    message = child.receive(timeout)
    if message == _TIMEOUT:
        return f"{path}: ran out of time while loading ({timeout:g} s)"
    if message == _EOF:
        return f"{path}: ended its process while loading ({_how(child.end())})"
    if _is(message, "load_failed"):
        return f"{path}: {_clean(message.get('reason'), 500) or 'failed to load'}"
    if not _is(message, "loaded"):
        return f"{path}: the grader cannot read what its child process sent while loading the file"
    return None


def _grade_exercise(child: _Child, ex: Exercise, timeout: float) -> tuple[CheckResult, bool]:
    """The verdict on one exercise, and whether the child can go on with the next one."""
    deadline = time.monotonic() + timeout
    message = child.receive(timeout)
    if not (_is(message, "exercise") and message.get("exercise") == ex.id):
        return _lost(child, ex, ex.function, None, message, timeout), False
    if message.get("status") == "missing":
        return missing_verdict(ex), True
    name = message.get("name")
    name = name if isinstance(name, str) and name.isidentifier() and len(name) <= 100 else ex.function
    if message.get("status") not in ("function", "stub", "not_callable"):
        return _lost(child, ex, name, None, message, timeout), False
    early = verdict_before_calling(ex, name, message["status"], _clean(message.get("type"), 100) or "unknown")
    if early is not None:
        return early, True
    with _JUDGING:
        cases = ex.cases()
    for case in cases:
        message = child.receive(deadline - time.monotonic())
        outcome = _decode_outcome(message) if _is(message, "outcome") else None
        if outcome is None:
            return _lost(child, ex, name, case, message, timeout), False
        judging_since = time.monotonic()
        with _JUDGING:
            verdict = judge(ex, name, case, reference_answer(ex, case), outcome)
        deadline += time.monotonic() - judging_since  # the time spent judging is not the student's
        child.send("next" if verdict is None else "stop")
        if verdict is not None:
            return verdict, True
    return passed_verdict(ex, name, len(cases)), True


def _lost(child: _Child, ex: Exercise, name: str, case, message, timeout: float) -> CheckResult:
    """The verdict when the child does not answer as it should: it ran out of time, ended, or sent nonsense."""
    how = _how(child.end())
    inputs = f" (called with {case.text})" if case is not None else ""
    if message == _TIMEOUT and not child.ended_by_itself:  # (ended, yet silent: a process it forked holds the pipe)
        text = (f"it ran out of time ({timeout:g} s){inputs}. Look for an endless loop, or a loop far longer than "
                "these small inputs need.")
    elif message in (_TIMEOUT, _EOF):
        text = (f"it ended its process ({how}){inputs}. A function hands its result back with `return`; it must "
                "not end the program.")
    else:
        text = f"its process sent the grader something it cannot read{inputs}."
    return CheckResult(ex.id, False, f"{name} is not right yet: {text}")


def _how(returncode: int) -> str:
    """How a child process ended, in words: ``exit status 3``, ``killed by SIGSEGV``."""
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"killed by {signal.Signals(-returncode).name}"
    except ValueError:
        return f"killed by signal {-returncode}"


# --------------------------------------------------------------------------- #
# What a child says, which is never trusted
# --------------------------------------------------------------------------- #


def _is(message, event: str) -> bool:
    return isinstance(message, dict) and message.get("event") == event


def _clean(value, limit: int, *, lines: bool = False) -> str:
    """A string from a child, safe to print on one line: control characters become spaces, long ones are cut."""
    if not isinstance(value, str):
        return ""
    text = "".join(ch if ch.isprintable() or (lines and ch == "\n") else " " for ch in value[:limit])
    return text + ("…" if len(value) > limit else "")


def _decode_numbers(shape, data) -> np.ndarray | None:
    """The float64 array a child sent as base64 bytes; NaNs of that shape when it was too large to send."""
    if not (isinstance(shape, list) and len(shape) <= 32 and all(type(n) is int and n >= 0 for n in shape)):
        return None
    size = math.prod(shape)
    try:
        if data is None:  # too many numbers to send: judged by its shape
            return np.broadcast_to(np.float64(np.nan), tuple(shape)) if size > MAX_VALUES else None
        raw = base64.b64decode(data, validate=True)
    except (TypeError, ValueError):
        return None
    if len(raw) != 8 * size:
        return None
    return np.frombuffer(raw, dtype="<f8").reshape(shape).astype(np.float64)


def _decode_outcome(message: dict) -> Outcome | None:
    kind = message.get("kind")
    if kind not in _KINDS:
        return None
    got = _decode_numbers(message.get("shape"), message.get("data")) if kind == "value" else None
    if kind == "value" and got is None:
        return None
    return Outcome(kind, got=got, text=_clean(message.get("text"), MAX_TEXT, lines=kind == "raised"),
                   error_type=_clean(message.get("error_type"), 100) or "an exception")


# --------------------------------------------------------------------------- #
# The child processes
# --------------------------------------------------------------------------- #

# The child's first lines, before any import: private copies of its pipes to the parent (not inherited by
# processes it starts, PEP 446), then fds 0 and 1 on the null device, so that nothing printed from here on — by a
# library while it loads, or by a student — can mix with the messages.
_BOOTSTRAP = """\
import os, sys
channel = (os.dup(1), os.dup(0), os.open(os.devnull, os.O_RDWR))
os.dup2(channel[2], 0)
os.dup2(channel[2], 1)
sys.path.insert(0, sys.argv.pop(1))
from book_tools.exercises.child import child_main
child_main(channel, sys.argv[1], sys.argv[2:])
"""


class _Child:
    """One child process grading one file: its pipes, a thread that queues its lines, a kill that takes its group."""

    def __init__(self, path: str, ids: Sequence[str]):
        root = str(Path(__file__).resolve().parents[2])  # the child imports this very book_tools
        self.log = tempfile.TemporaryFile()  # its stderr until the file loads: why it failed to start, if it did
        self.proc = subprocess.Popen([sys.executable, "-c", _BOOTSTRAP, root, path, *ids], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, start_new_session=os.name == "posix",
                                     env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
        self.ended_by_itself: bool | None = None
        self.lines: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        with self.proc.stdout as pipe:
            for line in iter(lambda: pipe.readline(MAX_MESSAGE), b""):
                self.lines.put(line)
                if not line.endswith(b"\n"):  # a line too long to be a message: read no more
                    break
        self.lines.put(_EOF)

    def receive(self, seconds: float):
        """The next message (a dict), or ``_TIMEOUT``, ``_EOF`` or ``_GARBLED``."""
        try:
            line = self.lines.get(timeout=max(seconds, 0.0))
        except queue.Empty:
            return _TIMEOUT
        if line == _EOF:
            return _EOF
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            return _GARBLED
        return message if isinstance(message, dict) else _GARBLED

    def send(self, word: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # the child has gone: the next receive says so
            self.proc.stdin.write(word.encode("ascii") + b"\n")
            self.proc.stdin.flush()

    def end(self) -> int:
        """Kill the child and every process of its group (POSIX); its exit status. Safe to call again."""
        if self.ended_by_itself is None:
            self.ended_by_itself = self.proc.poll() is not None
            if os.name == "posix":  # the group's id is the child's pid, reserved while a process of the group lives
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            self.proc.kill()
        returncode = self.proc.wait()
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.close()
        return returncode

    def last_error_line(self) -> str:
        """The last line the child wrote on its standard error (before ``ready``: the grader's own code's)."""
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return _clean(lines[-1], 300) if lines else ""


class _Children:
    """The live children of one :func:`grade_files`: :meth:`stop_all` (at the end, or on Ctrl-C) kills them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.live: set[_Child] = set()
        self.stopped = False

    @contextlib.contextmanager
    def start(self, path: str, ids: Sequence[str]):
        with self.lock:
            if self.stopped:
                raise RuntimeError("grading was stopped")
            child = _Child(path, ids)
            self.live.add(child)
        try:
            yield child
        finally:
            child.end()
            child.log.close()
            with self.lock:
                self.live.discard(child)

    def stop_all(self) -> None:
        with self.lock:
            self.stopped = True
            live = list(self.live)
        for child in live:
            child.end()
