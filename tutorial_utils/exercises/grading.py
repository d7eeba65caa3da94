r"""Grading students' files in child processes: ``python -m tutorial_utils check`` runs untrusted code.

A student's answer is code, and the command runs it. Run in the grader's own
process, an answer could end the command (``sys.exit(0)`` in ``my_cam`` made it
exit 0 and print nothing), hang it (an endless loop), flood its output, or change
what it compares against (an answer file that replaced
``tutorial_utils.cam.class_activation_map`` at import time got a ✓ for a wrong
``my_cam``). This module contains those failures:

* **One child process per file.** A child loads the file with
  :func:`~tutorial_utils.exercises.child.load_student_file` and calls its
  functions (:mod:`tutorial_utils.exercises.child`, the only module that runs a
  student's code). The parent — the command itself — never imports a student's code.
* **The verdict is made in the parent.** For each test input the child reports
  only what the function did — the numbers it returned (as float64 bytes), the
  exception it raised, ``None``, a wrong type — as an
  :class:`~tutorial_utils.exercises.engine.Outcome`. The parent judges it with the
  reference implementations, the known mistakes and the comparison of its own
  process, which no student code has touched: that is how the references are
  bound before student code is loaded — they live in a process it never enters.
  Monkeypatching the library, the checkers or NumPy in the child changes at most
  what the student's own function returns; for a ✓ it must still return the
  right numbers for the inputs, which is solving the exercise (or calling the
  book's helper, which a reader of the code sees). Why not capture the
  references and the comparison in the child before loading the file? Code in a
  process reaches everything in it — ``sys.modules``, ``gc``, the globals a
  captured function looks up when it runs (``np``, ``torch``) — so what is
  captured can still be changed from inside; another process cannot.
* **Inputs and channels are bound before the file runs.** The child builds the
  test inputs and takes private copies of its pipes to the parent before it
  loads the file, then points file descriptors 0, 1 and 2 at the null device:
  whatever a student prints — ``print``, ``os.write(1, …)``, a subprocess —
  is thrown away and never reaches the grader's output or its messages.
* **A time limit per exercise** (``--timeout``; the same limit for loading the
  file). The parent waits for each message with a deadline. When an exercise
  runs out of time it kills the child (on POSIX with its process group), writes
  "ran out of time", and starts a new child for the exercises that remain. The
  same when the child ends during an exercise (``os._exit``, a crash): "ended its
  process". A new child imports torch again, a few seconds, so only answers
  that hang or end their process cost that. ``sys.exit`` raises ``SystemExit``,
  which the child catches and reports like any exception. A child also ends
  itself if the grader is killed.
* **Lock step.** After each test input the child waits for the parent's word,
  ``next`` or ``stop``, so that — as in a notebook — a function that has failed
  is not called on further inputs.

What it is not: a sandbox. The child runs as the grader's user, with its file
system, network and memory; a determined student can read and write files, open
connections, fill the memory, or forge the child's messages (which can only
misreport what the function returned: a ✓ still needs the right numbers). Grade
untrusted submissions as an unprivileged user, in a container or a virtual
machine.
"""

from __future__ import annotations

import base64
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
from .classlist import csv_target_problem, find_submissions, write_csv
from .engine import (Case, CheckResult, Exercise, Outcome, judge, missing_verdict, passed_verdict, reference_answer,
                     verdict_before_calling)
from .registry import EXERCISES

__all__ = ["CHECK_TIMEOUT", "FileReport", "default_jobs", "grade_files", "run_check"]

STARTUP_LIMIT = 300.0  # seconds for a child to import torch and the book: not the student's time
MAX_MESSAGE = 64 << 20  # bytes in one message from a child
_JUDGING = threading.Lock()  # one verdict at a time: the checkers change process-wide warning filters
_KINDS = frozenset({"value", "none", "not_tensor", "wrong_type", "raised", "not_implemented", "exited"})

# --------------------------------------------------------------------------- #
# The command line
# --------------------------------------------------------------------------- #


CHECK_TIMEOUT = 20.0
"""Seconds that ``python -m tutorial_utils check`` allows for loading a file and for each exercise, unless told otherwise."""


def run_check(files: Sequence[str], *, as_json: bool = False, show_all: bool = False, out=None, err=None,
              timeout: float = CHECK_TIMEOUT, jobs: int | None = None, csv: str | None = None) -> int:
    """``python -m tutorial_utils check PATH…``: grade each file in a child process of its own; the exit code.

    ``files`` are students' files and folders of them; ``csv``, a file for the
    class's table (:mod:`~tutorial_utils.exercises.classlist`). Prints one line
    per attempted exercise and file (chapter, function, ✓/✗, message) — every
    exercise, not attempted ones (–) included, with ``show_all`` — or with
    ``as_json`` a JSON list of objects with the keys ``file``, ``exercise``,
    ``chapter``, ``function``, ``attempted``, ``passed`` and ``message``. A
    student's code runs in child processes, never in this one (see this
    module's description): ``timeout`` seconds (:data:`CHECK_TIMEOUT`) are
    allowed for loading a file and for each exercise, and ``jobs`` files are
    graded at the same time (default: the number of CPUs, at most 4).

    Returns 0 if every attempted exercise is right; 1 if one is wrong, ran out
    of time or ended its process, or a student's files attempt none; 2 if a file is missing, unreadable or fails
    while loading (a syntax error, an exception, an exit or running out of time
    at import) or a folder holds no submission; also 2, before grading, if ``csv``
    cannot be written. One line on stderr says why.

    >>> run_check(["no_such_answer.py"], err=sys.stdout)
    error: no_such_answer.py: no such file
    2
    """
    out, err = out or sys.stdout, err or sys.stderr
    submissions = find_submissions(files)
    if csv and (problem := csv_target_problem(csv)):
        print(f"error: {problem}", file=err)
        return 2
    graded = iter(grade_files([s.path for s in submissions if s.error is None], timeout=timeout, jobs=jobs))
    reports = [next(graded) if s.error is None else FileReport(s.path, error=s.error) for s in submissions]
    rows, code = [], 0
    for report in reports:
        if report.error is not None:
            print(f"error: {report.error}", file=err)
            code = 2
        for result in report.results:
            ex = EXERCISES[result.exercise]
            rows.append(dict(file=report.path, exercise=ex.id, chapter=ex.chapter, function=ex.function,
                             attempted=result.attempted, passed=result.passed, message=result.message))
            if result.attempted and not result.passed and code == 0:
                code = 1
    tried = {}  # a student whose files attempt nothing has not passed: the student edition as handed out
    for s, report in zip(submissions, reports):
        tried[s.student] = tried.get(s.student, False) or any(r.attempted for r in report.results)
    code = 1 if code == 0 and not all(tried.values()) else code
    if csv and (failed := write_csv(csv, submissions, reports)):
        print(f"error: {failed}", file=err)
        code = 2
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1), file=out)
        return code
    for path in dict.fromkeys(row["file"] for row in rows):
        mine = [row for row in rows if row["file"] == path]
        print(path, file=out)
        for row in mine:
            if not (row["attempted"] or show_all):
                continue
            symbol = "✓" if row["passed"] else ("✗" if row["attempted"] else "–")
            print(f"  {row['chapter']:<26} {row['function']:<20} {symbol}  {row['message']}", file=out)
        attempted = sum(row["attempted"] for row in mine)
        right = sum(row["passed"] for row in mine)
        hidden = "" if show_all or attempted == len(mine) else " (--all lists the others)"
        print(f"  {attempted} of {len(mine)} exercises attempted{hidden}, {right} right.", file=out)
    return code


@dataclass
class FileReport:
    """What grading one file gave: a result per exercise, and ``error`` (a line naming the file) if it did not load."""

    path: str
    results: list[CheckResult] = field(default_factory=list)
    error: str | None = None


def default_jobs() -> int:
    """Files graded at the same time when ``--jobs`` is not given: the number of CPUs, at most 4."""
    return max(1, min(4, os.cpu_count() or 1))


def grade_files(paths: Sequence[str], *, timeout: float = CHECK_TIMEOUT, jobs: int | None = None) -> list[FileReport]:
    """Grade each file in child processes of its own; one :class:`FileReport` per path, in order.

    ``timeout`` is the time limit, in seconds, for loading a file and for each
    exercise; ``jobs`` how many files are graded at the same time.

    >>> grade_files(["no_such_answer.py"])[0].error
    'no_such_answer.py: no such file'

    Raises ``ValueError`` for a ``timeout`` that is not a positive number of
    seconds; never raises for anything a student's file does.
    """
    if not (timeout > 0 and math.isfinite(timeout)):
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
    paths = [str(p) for p in paths]
    jobs = max(1, min(jobs or default_jobs(), len(paths) or 1))
    session = _Session()
    try:
        if jobs == 1:
            return [_grade_file(p, timeout, session) for p in paths]
        with ThreadPoolExecutor(jobs) as pool:
            futures = [pool.submit(_grade_file, p, timeout, session) for p in paths]
            try:
                return [f.result() for f in futures]
            except BaseException:  # Ctrl-C: end every child now, before the pool waits for its threads
                session.stop_all()
                for f in futures:
                    f.cancel()
                raise
    finally:
        session.stop_all()


# --------------------------------------------------------------------------- #
# The parent: one file
# --------------------------------------------------------------------------- #


def _grade_file(path: str, timeout: float, session: _Session) -> FileReport:
    if not Path(path).is_file():
        return FileReport(path, error=f"{path}: no such file")
    results: dict[str, CheckResult] = {}
    remaining = list(EXERCISES)
    error = None
    while remaining and error is None:
        try:
            child = session.start(path, remaining)
        except OSError as err:  # no process could be started (too many open files, no memory): not the file's fault
            error = f"{path}: the grader could not start a child process ({type(err).__name__}: {err})"
            break
        try:
            error = _run_child(child, path, remaining, results, timeout)
        finally:
            session.end(child)
    if error is not None and not results:
        return FileReport(path, error=error)
    for ex_id in remaining:  # a file that loaded once, then failed to load for a new child
        ex = EXERCISES[ex_id]
        results[ex_id] = CheckResult(ex.id, False, f"{ex.function} was not graded: the file failed to load again.",
                                     attempted=False)
    return FileReport(path, [results[ex_id] for ex_id in EXERCISES], error)


def _run_child(child: _Child, path: str, remaining: list[str], results: dict, timeout: float) -> str | None:
    """Load the file in ``child`` and grade what remains; an error line if loading fails.

    Every exercise graded is removed from ``remaining``. Returns early, with
    ``None``, when the child ended or ran out of time: the caller starts a new
    one for the rest.
    """
    message = child.receive(STARTUP_LIMIT)
    if not _is(message, "ready"):
        if message is _TIMEOUT:
            child.kill()
            return f"{path}: the grader's child process did not start within {STARTUP_LIMIT:g} s"
        how = _how(child.kill())
        detail = _clean(message.get("reason"), 300) if _is(message, "broken") else child.last_error_line()
        return f"{path}: the grader's child process failed to start ({how})" + (f": {detail}" if detail else "")
    message = child.receive(timeout)
    if message is _TIMEOUT:
        return f"{path}: ran out of time while loading ({timeout:g} s)"
    if message is _EOF:
        return f"{path}: ended its process while loading ({_how(child.kill())})"
    if _is(message, "load_failed"):
        return f"{path}: {_clean(message.get('reason'), 500) or 'failed to load'}"
    if not _is(message, "loaded"):
        return f"{path}: the grader cannot read what its child process sent while loading the file"
    for ex_id in list(remaining):
        result, alive = _grade_exercise(child, EXERCISES[ex_id], timeout)
        results[ex_id] = result
        remaining.remove(ex_id)
        if not alive:
            return None
    return None


class _Clock:
    """The time an exercise has left; paused while the parent judges."""

    def __init__(self, seconds: float):
        self._left, self._since = seconds, time.monotonic()

    def left(self) -> float:
        return self._left - (time.monotonic() - self._since if self._since is not None else 0.0)

    def pause(self) -> None:
        self._left, self._since = self.left(), None

    def resume(self) -> None:
        self._since = time.monotonic()


def _grade_exercise(child: _Child, ex: Exercise, timeout: float) -> tuple[CheckResult, bool]:
    """The verdict on one exercise, and whether the child can go on with the next one."""
    clock = _Clock(timeout)
    name, case = ex.function, None

    def lost(message) -> tuple[CheckResult, bool]:
        """The verdict when the child does not answer as it should: out of time, ended, or garbled."""
        if message is _TIMEOUT:
            rc = child.kill()
            if child.ended_by_itself:  # it died, but a process it started kept the pipe open
                return _ended(ex, name, case, _how(rc)), False
            return _timed_out(ex, name, case, timeout), False
        if message is _EOF:
            return _ended(ex, name, case, _how(child.kill())), False
        child.kill()
        return _unreadable(ex, name, case), False

    message = child.receive(clock.left())
    if not (_is(message, "start") and message.get("exercise") == ex.id):
        return lost(message)
    message = child.receive(clock.left())
    if _is(message, "missing"):
        return missing_verdict(ex), True
    status = {"attempt": "function", "not_callable": "not_callable", "stub": "stub"}.get(
        message.get("event") if isinstance(message, dict) else None)
    if status is None:
        return lost(message)
    name = _clean_name(message.get("name"), ex)
    early = verdict_before_calling(ex, name, status, _clean(message.get("type"), 100) or "unknown")
    if early is not None:
        return early, True
    with _JUDGING:
        cases = ex.cases()
    for case in cases:  # noqa: B007 — `lost` reads the case being run
        message = child.receive(clock.left())
        if not _is(message, "outcome"):
            return lost(message)
        clock.pause()
        outcome = _decode_outcome(message)
        if outcome is None:
            child.kill()
            return _unreadable(ex, name, case), False
        with _JUDGING:
            verdict = judge(ex, name, case, reference_answer(ex, case), outcome)
        child.send("next" if verdict is None else "stop")
        clock.resume()
        if verdict is not None:
            return verdict, True
    return passed_verdict(ex, name, len(cases)), True


def _inputs(case: Case | None) -> str:
    return f" (called with {case.text})" if case is not None else ""


def _timed_out(ex: Exercise, name: str, case: Case | None, seconds: float) -> CheckResult:
    return CheckResult(ex.id, False, f"{name} is not right yet: it ran out of time ({seconds:g} s){_inputs(case)}. "
                                     "Look for an endless loop, or a loop far longer than these small inputs need.")


def _ended(ex: Exercise, name: str, case: Case | None, how: str) -> CheckResult:
    return CheckResult(ex.id, False, f"{name} is not right yet: it ended its process ({how}){_inputs(case)}. "
                                     "A function hands its result back with `return`; it must not end the program.")


def _unreadable(ex: Exercise, name: str, case: Case | None) -> CheckResult:
    return CheckResult(ex.id, False, f"{name} is not right yet: its process sent the grader something it cannot "
                                     f"read{_inputs(case)}.")


def _how(returncode: int | None) -> str:
    """How a child process ended, in words: ``exit status 3``, ``killed by SIGSEGV``."""
    if returncode is None:
        return "it closed its connection to the grader"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


# --------------------------------------------------------------------------- #
# The parent: reading what a child says, which is never trusted
# --------------------------------------------------------------------------- #


class _Signal(str):
    """What :meth:`_Child.receive` returns instead of a message."""


_EOF, _TIMEOUT, _GARBLED = _Signal("eof"), _Signal("timeout"), _Signal("garbled")


def _is(message, event: str) -> bool:
    return isinstance(message, dict) and message.get("event") == event


def _clean(value, limit: int, *, lines: bool = False) -> str:
    """A string from a child, safe to print on one line: control characters become spaces, long ones are cut."""
    if not isinstance(value, str):
        return ""
    text = "".join(ch if ch.isprintable() or (lines and ch == "\n") else " " for ch in value[:limit])
    return text + ("…" if len(value) > limit else "")


def _clean_name(value, ex: Exercise) -> str:
    return value if isinstance(value, str) and value.isidentifier() and len(value) <= 100 else ex.function


def _decode_numbers(shape, data) -> np.ndarray | None:
    if not (isinstance(shape, list) and len(shape) <= 32 and all(type(n) is int and n >= 0 for n in shape)):
        return None
    size = math.prod(shape)
    if data is None:  # too many numbers to send: judged by its shape
        if size <= MAX_VALUES:
            return None
        try:
            return np.broadcast_to(np.float64(np.nan), tuple(shape))
        except ValueError:
            return None
    if not isinstance(data, str):
        return None
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        return None
    if len(raw) != 8 * size:
        return None
    return np.frombuffer(raw, dtype="<f8").reshape(shape).astype(np.float64)


def _decode_outcome(message: dict) -> Outcome | None:
    kind = message.get("kind")
    if kind not in _KINDS:
        return None
    got = None
    if kind == "value":
        got = _decode_numbers(message.get("shape"), message.get("data"))
        if got is None:
            return None
    return Outcome(kind, got=got, text=_clean(message.get("text"), MAX_TEXT, lines=kind == "raised"),
                    error_type=_clean(message.get("error_type"), 100) or "an exception")


# The child's first lines, before any import: private copies of its pipes to the parent (new descriptors are not
# inherited by processes it starts, PEP 446), then fds 0 and 1 on the null device, so that nothing printed from
# here on — by a library while it loads, or by a student — can mix with the messages.
_BOOTSTRAP = """\
import os, sys
channel = (os.dup(1), os.dup(0), os.open(os.devnull, os.O_RDWR))
os.dup2(channel[2], 0)
os.dup2(channel[2], 1)
sys.path.insert(0, sys.argv.pop(1))
from tutorial_utils.exercises.child import child_main
child_main(channel, sys.argv[1], sys.argv[2:])
"""


class _Stopped(Exception):
    """Grading was interrupted (Ctrl-C): no new child is started."""


class _Child:
    """One child process grading one file: its pipes, a thread reading its messages, a kill that takes its children."""

    def __init__(self, path: str, ids: Sequence[str]):
        root = str(Path(__file__).resolve().parents[2])  # the same tutorial_utils as the parent's
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self._stderr = tempfile.TemporaryFile()  # the child's own start-up errors; a student's output goes to null
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOTSTRAP, root, path, *ids],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env,
            start_new_session=os.name == "posix",
        )
        self.ended_by_itself = False
        self._messages: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout.fileno(),), daemon=True)
        self._reader.start()

    def _read(self, fd: int) -> None:
        """Split the child's output into messages, one a line, in linear time however long a line is."""
        pending: list[bytes] = []
        size = 0
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._messages.put(_EOF)
                return
            *complete, rest = chunk.split(b"\n")
            for piece in complete:
                pending.append(piece)
                self._messages.put(b"".join(pending))
                pending, size = [], 0
            if rest:
                pending.append(rest)
                size += len(rest)
            if size > MAX_MESSAGE:
                self._messages.put(_GARBLED)
                return

    def receive(self, seconds: float):
        """The next message (a dict), or ``_TIMEOUT``, ``_EOF`` or ``_GARBLED``."""
        try:
            item = self._messages.get(timeout=max(seconds, 0.0))
        except queue.Empty:
            return _TIMEOUT
        if isinstance(item, _Signal):
            self._messages.put(item)  # the child says nothing more: tell every later call too
            return item
        try:
            message = json.loads(item)
        except ValueError:
            return _GARBLED
        return message if isinstance(message, dict) else _GARBLED

    def send(self, word: str) -> None:
        try:
            self.proc.stdin.write(word.encode("ascii") + b"\n")
            self.proc.stdin.flush()
        except (OSError, ValueError):
            pass  # the child has gone: the next receive says so

    def kill(self) -> int:
        """Kill the child and every process of its group (POSIX); its exit status."""
        with self._lock:
            if self.proc.returncode is None:
                self.ended_by_itself = self.proc.poll() is not None
                if os.name == "posix":
                    try:  # the group's id is the child's pid, reserved while the child or a process it started lives
                        os.killpg(self.proc.pid, signal.SIGKILL)
                    except OSError:
                        pass
            try:
                self.proc.kill()
            except OSError:
                pass
            returncode = self.proc.wait()
            self._close()
            return returncode

    def _close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        self._reader.join(timeout=2)
        if not self._reader.is_alive():  # never close an fd that a thread may still read
            self.proc.stdout.close()

    def last_error_line(self) -> str:
        """The last line the child wrote on its standard error before a student's code could run."""
        try:
            self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, self._stderr.tell() - 4000))
            lines = self._stderr.read().decode("utf-8", "replace").strip().splitlines()
        except (OSError, ValueError):
            return ""
        return _clean(lines[-1], 300) if lines else ""

    def close_log(self) -> None:
        try:
            self._stderr.close()
        except OSError:
            pass


class _Session:
    """Every child of one ``check`` command, so that Ctrl-C ends them all."""

    def __init__(self):
        self._lock = threading.Lock()
        self._children: set[_Child] = set()
        self._stopped = False

    def start(self, path: str, ids: Sequence[str]) -> _Child:
        with self._lock:
            if self._stopped:
                raise _Stopped
            child = _Child(path, ids)
            self._children.add(child)
            return child

    def end(self, child: _Child) -> None:
        child.kill()
        child.close_log()
        with self._lock:
            self._children.discard(child)

    def stop_all(self) -> None:
        with self._lock:
            self._stopped = True
            children = list(self._children)
        for child in children:
            child.kill()
