r"""The ``check`` command's front: a class's submissions, who each one belongs to, and what the command reports.

:func:`run_check` is ``python -m tutorial_utils check PATH…``: it finds the submissions
(:func:`find_submissions`), grades them in child processes (:func:`~book_tools.exercises.grading.grade_files`),
prints a line per exercise (or ``--json``), writes ``--csv`` and returns the exit code.

* **A file** is graded as given; its student is the file's stem (``ada.ipynb`` → ``ada``).
* **A folder** is searched recursively, in sorted order, for ``*.py`` and ``*.ipynb`` files; hidden files and
  folders (``.ipynb_checkpoints``, ``__MACOSX/._x.py``, ``.git``) are skipped. A file at the top of the folder is
  the student of its stem; a file inside a subfolder belongs to the student that the top subfolder is named after
  (``class/ada/cam.ipynb`` → ``ada``: a learning-management system's download). A folder with no submission is an
  error that names it, like a missing path.

The table (:func:`class_table`) has one row per student: ``student``, one column per exercise (its function's name,
in the order of :data:`~book_tools.exercises.EXERCISES`) holding ``1`` (right), ``0`` (attempted, not right: wrong,
out of time, ended its process) or nothing (not attempted), then ``passed`` (how many 1s), ``file`` and ``error``.
A student's several files (a notebook per chapter) make one row: an exercise attempted in more than one is ``1``
only if right in every one, and ``error`` names the files. A file that fails to load adds no verdict, ``error``
says why, and a student none of whose files loaded has every exercise cell and ``passed`` empty. It is written as
UTF-8 with the :mod:`csv` module; a text cell that a spreadsheet would take for a formula (``=…``, ``+…``, ``-…``,
``@…``) starts with a ``'``.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> for name in ("bob/answers.ipynb", "ada.py", ".ipynb_checkpoints/ada-checkpoint.py", "notes.txt"):
...     (folder / name).parent.mkdir(exist_ok=True)
...     _ = (folder / name).write_text("")
>>> [(pathlib.Path(s.path).name, s.student) for s in find_submissions([str(folder)])]
[('ada.py', 'ada'), ('answers.ipynb', 'bob')]
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .grading import CHECK_TIMEOUT, FileReport, grade_files
from .registry import EXERCISES

__all__ = ["SUFFIXES", "Submission", "class_table", "csv_target_problem", "find_submissions", "run_check",
           "write_csv"]

SUFFIXES = (".py", ".ipynb")
"""What a folder's submissions end with."""


def run_check(files: Sequence[str], *, as_json: bool = False, show_all: bool = False, out=None, err=None,
              timeout: float = CHECK_TIMEOUT, jobs: int | None = None, csv: str | None = None) -> int:
    """``python -m tutorial_utils check PATH…``: grade the submissions in ``files``, report, and return the exit code.

    Prints a line per attempted exercise and file (chapter, function, ✓/✗, message; with ``show_all`` the others
    too, marked –), or with ``as_json`` a JSON list of objects with the keys ``file``, ``exercise``, ``chapter``,
    ``function``, ``attempted``, ``passed`` and ``message``; writes :func:`class_table` to ``csv`` if given.
    ``timeout`` and ``jobs`` are :func:`~book_tools.exercises.grading.grade_files`'s.

    Returns 0 if every attempted exercise is right; 1 if one is wrong, ran out of time or ended its process, or a
    student's files attempt none; 2 if a file is missing, unreadable or fails while loading (a syntax error, an
    exception, an exit or running out of time at import) or a folder holds no submission; also 2, before grading,
    if ``csv`` cannot be written. One line on stderr says why.

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
    errors = [report.error for report in reports if report.error is not None]
    if csv and (failed := write_csv(csv, submissions, reports)):
        errors.append(failed)
    for line in errors:
        print(f"error: {line}", file=err)
    tried: dict[str, bool] = {}  # a student whose files attempt nothing has not passed: the edition as handed out
    for s, report in zip(submissions, reports):
        tried[s.student] = tried.get(s.student, False) or any(r.attempted for r in report.results)
    wrong = any(r.attempted and not r.passed for report in reports for r in report.results)
    code = 2 if errors else 1 if wrong or not all(tried.values()) else 0
    if as_json:
        rows = [dict(file=report.path, exercise=r.exercise, chapter=EXERCISES[r.exercise].chapter,
                     function=EXERCISES[r.exercise].function, attempted=r.attempted, passed=r.passed,
                     message=r.message) for report in reports for r in report.results]
        print(json.dumps(rows, ensure_ascii=False, indent=1), file=out)
        return code
    for report in (report for report in reports if report.results):
        print(report.path, file=out)
        for r in report.results:
            if r.attempted or show_all:
                ex, symbol = EXERCISES[r.exercise], "✓" if r.passed else ("✗" if r.attempted else "–")
                print(f"  {ex.chapter:<26} {ex.function:<20} {symbol}  {r.message}", file=out)
        attempted, total = sum(r.attempted for r in report.results), len(report.results)
        hidden = "" if show_all or attempted == total else " (--all lists the others)"
        print(f"  {attempted} of {total} exercises attempted{hidden}, {sum(r.passed for r in report.results)} right.",
              file=out)
    return code


@dataclass(frozen=True)
class Submission:
    """One path to grade and its student; ``error`` (a line naming the path) for a folder with no submission."""

    path: str
    student: str
    error: str | None = None


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _in_folder(folder: Path) -> list[Submission]:
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not _hidden(d)]  # not entered: .ipynb_checkpoints, .git
        for name in files:
            if not _hidden(name) and name.endswith(SUFFIXES):
                rel = (Path(here) / name).relative_to(folder)
                student = rel.parts[0] if len(rel.parts) > 1 else rel.stem
                found.append((rel.parts, Submission(str(folder / rel), student)))
    return [submission for _, submission in sorted(found, key=lambda pair: pair[0])]


def find_submissions(paths: Sequence[str]) -> list[Submission]:
    """The submissions that ``paths`` name, in order: a file as it is, a folder's ``.py`` and ``.ipynb`` files.

    A path that does not exist is kept (grading it says "no such file"); a
    folder with no submission gives a :class:`Submission` whose ``error`` says so.
    """
    submissions = []
    for path in paths:
        p = Path(path)
        if not p.is_dir():
            submissions.append(Submission(str(path), p.stem))
            continue
        found = _in_folder(p)
        if not found:
            found = [Submission(str(path), p.name, f"{path}: no {' or '.join(SUFFIXES)} submissions in this folder")]
        submissions.extend(found)
    return submissions


def csv_target_problem(path: str) -> str | None:
    """Why the CSV cannot be written to ``path`` (a line naming it), or ``None``; checked before grading starts.

    >>> csv_target_problem("no_such_folder/class.csv")
    'no_such_folder/class.csv: cannot write the CSV there: no such folder no_such_folder'
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    reason = None
    if p.is_dir():
        reason = "it is a folder"
    elif not parent.is_dir():
        reason = f"no such folder {parent}" if not parent.exists() else f"{parent} is not a folder"
    elif not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        reason = "permission denied"
    return f"{path}: cannot write the CSV there: {reason}" if reason else None


def _text(value: str) -> str:
    """A text cell that no spreadsheet runs as a formula (a student names their own file and folder)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def class_table(submissions: Sequence[Submission], reports: Sequence) -> list[list[str]]:
    """The CSV's rows, header first: one row per student, merged from the grading reports of their files.

    ``reports`` are the :class:`~book_tools.exercises.grading.FileReport` of
    the submissions, in the same order. A folder with no submission and a path
    that does not exist add nothing; a student with neither has no row.
    """
    functions = [ex.function for ex in EXERCISES.values()]
    rows = [["student", *functions, "passed", "file", "error"]]
    students: dict[str, list] = {}
    for submission, report in zip(submissions, reports):
        if submission.error is None and Path(submission.path).is_file():
            students.setdefault(submission.student, []).append(report)
    for student, mine in students.items():
        attempts: dict[str, list] = {ex_id: [] for ex_id in EXERCISES}
        for report in mine:
            for result in report.results:
                if result.attempted:
                    attempts[result.exercise].append((report.path, result.passed))
        cells = ["" if not tried else str(int(all(passed for _, passed in tried))) for tried in attempts.values()]
        loaded = any(report.error is None for report in mine)
        errors = [report.error.removeprefix(f"{report.path}: ") if len(mine) == 1 else report.error
                  for report in mine if report.error is not None]
        errors += [f"{EXERCISES[ex_id].function} attempted in {len(tried)} files ({', '.join(p for p, _ in tried)}): "
                   "1 only if right in every one" for ex_id, tried in attempts.items() if len(tried) > 1]
        rows.append([_text(student), *cells, str(cells.count("1")) if loaded else "",
                     _text("; ".join(report.path for report in mine)), _text("; ".join(errors))])
    return rows


def write_csv(path: str, submissions: Sequence[Submission], reports: Sequence) -> str | None:
    """Write :func:`class_table` to ``path`` as CSV; ``None``, or a line naming the file if it cannot be written.

    UTF-8, with the ``\\r\\n`` line ends of the :mod:`csv` module; the
    whole table is made before the file is opened.
    """
    text = io.StringIO()
    csv.writer(text).writerows(class_table(submissions, reports))
    try:
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text.getvalue())
    except OSError as err:
        return f"{path}: cannot write the CSV: {type(err).__name__}: {err.strerror or err}"
    return None
