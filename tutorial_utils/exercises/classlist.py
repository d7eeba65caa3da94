r"""A class at once: the submissions in a folder, who each one belongs to, and the table ``--csv`` writes.

``python -m tutorial_utils check PATH… --csv FILE`` grades a class. Each
``PATH`` is a student's file or a folder of submissions:

* **A file** is graded as given; its student is the file's stem
  (``ada.ipynb`` → ``ada``).
* **A folder** is searched recursively, in sorted order, for ``*.py`` and
  ``*.ipynb`` files. Hidden files and folders (``.ipynb_checkpoints``, a
  macOS ``__MACOSX/._x.py`` copy, ``.git``) are skipped. A file at the top of
  the folder is the student of its stem; a file inside a subfolder belongs to
  the student that the top subfolder is named after — the layout of a
  learning-management system's download, one folder per student
  (``class/ada/cam.ipynb`` → ``ada``). A folder with no submission is an error
  that names it, like a missing path.

The table (:func:`class_table`) has one row per student: ``student``, one
column per exercise (its function's name, in the order of
:data:`~tutorial_utils.exercises.EXERCISES`) holding ``1`` (right), ``0``
(attempted, not right: wrong, out of time, ended its process) or nothing (not
attempted), then ``passed`` (how many 1s), ``file`` and ``error``. A student
may hand in several files — the whole student edition, a notebook per chapter —
and they make one row: each exercise's cell comes from the file that attempts
it. An exercise attempted in more than one of a student's files is ``1`` only
if it is right in every one, and ``error`` names the files, so nothing is
merged silently. A file that fails to load is not graded: it adds no verdict,
``error`` says why, and a student none of whose files loaded has every exercise
cell and ``passed`` empty — a 0 would claim an answer that was never run. It is written as UTF-8 with the
:mod:`csv` module; a text cell that a spreadsheet would take for a formula
(``=…``, ``+…``, ``-…``, ``@…``) starts with a ``'``.

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
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .registry import EXERCISES

__all__ = ["SUFFIXES", "Submission", "class_table", "csv_target_problem", "find_submissions", "write_csv"]

SUFFIXES = (".py", ".ipynb")
"""What a folder's submissions end with."""


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

    ``reports`` are the :class:`~tutorial_utils.exercises.grading.FileReport` of
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
