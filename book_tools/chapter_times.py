r"""Each chapter's estimated time, computed from what the chapter holds by a stated rule.

The rule (the constants below), applied to the cells a reader sees:

* **the text:** the words of the Markdown cells, written solutions left out, at
  :data:`WORDS_PER_MINUTE` (150: a careful pace for technical prose with
  equations);
* **the code:** its non-blank lines at :data:`CODE_LINES_PER_MINUTE` (15), plus
  :data:`MINUTES_PER_CODE_CELL` (half a minute) per cell to run it and look at
  what it shows, plus :data:`MINUTES_PER_PREDICTION` for the predict-then-check
  question (cells the website hides, tagged ``remove-cell``, are left out);
* **the exercises:** :data:`MINUTES_PER_AUTO_EXERCISE` (10) per auto-checked
  exercise and :data:`MINUTES_PER_WRITTEN_EXERCISE` (5) per written one.

Each part is rounded up to a multiple of five minutes, and the estimate is their
sum. The time the code takes to run is not added: it passes while the reader
reads. Each chapter's first cell states the estimate as a sentence that
:func:`estimate_sentence` writes; ``python -m book_tools.chapter_times --write``
puts the current estimates there, and a book rule
(``tests/book/test_chapter_times.py``) fails when a chapter's sentence is not
what the rule gives for its content today. The instructors' schedule reads
:func:`estimate` directly.

>>> e = estimate(ROOT / "notebooks" / "03_cam.ipynb")
>>> e.total == e.reading + e.code + e.exercises and e.total % 5 == 0
True
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .notebooks import ROOT, SOLUTION, chapter_paths, read_notebook, source

__all__ = [
    "CODE_LINES_PER_MINUTE",
    "ESTIMATE_LINE",
    "MINUTES_PER_AUTO_EXERCISE",
    "MINUTES_PER_CODE_CELL",
    "MINUTES_PER_PREDICTION",
    "MINUTES_PER_WRITTEN_EXERCISE",
    "WORDS_PER_MINUTE",
    "Estimate",
    "estimate",
    "estimate_sentence",
    "main",
]

WORDS_PER_MINUTE = 150
CODE_LINES_PER_MINUTE = 15
MINUTES_PER_CODE_CELL = 0.5
MINUTES_PER_PREDICTION = 2
MINUTES_PER_AUTO_EXERCISE = 10
MINUTES_PER_WRITTEN_EXERCISE = 5
ROUND_TO = 5

ESTIMATE_LINE = re.compile(r"^\*\*Estimated time\.\*\* (?P<sentence>About \d+ minutes: [^\n]*?instructors\.md\)\)\.)",
                           re.M)
"""The sentence :func:`estimate_sentence` writes, as it stands in a chapter's first cell."""

_EXERCISE = re.compile(r"^\*\*\d+\.(?P<head>[^\n]*)", re.M)


@dataclass(frozen=True)
class Estimate:
    """What the rule counted in one chapter, and the minutes it gives (each part a multiple of five)."""

    chapter: str
    words: int
    code_cells: int
    code_lines: int
    predictions: int
    auto_exercises: int
    written_exercises: int

    @property
    def reading(self) -> int:
        return _round_up(self.words / WORDS_PER_MINUTE)

    @property
    def code(self) -> int:
        return _round_up(self.code_lines / CODE_LINES_PER_MINUTE + self.code_cells * MINUTES_PER_CODE_CELL
                         + self.predictions * MINUTES_PER_PREDICTION)

    @property
    def exercises(self) -> int:
        return _round_up(self.auto_exercises * MINUTES_PER_AUTO_EXERCISE
                         + self.written_exercises * MINUTES_PER_WRITTEN_EXERCISE)

    @property
    def total(self) -> int:
        return self.reading + self.code + self.exercises


def _round_up(minutes: float) -> int:
    return int(math.ceil(minutes / ROUND_TO - 1e-9)) * ROUND_TO


def estimate(path: Path) -> Estimate:
    """Count a chapter's words, code and exercises, and apply the rule of this module's docstring."""
    path = Path(path)
    nb = read_notebook(path)
    markdown = "\n\n".join(source(c) for c in nb["cells"] if c.get("cell_type") == "markdown")
    prose = SOLUTION.sub(" ", markdown)
    code = [source(c) for c in nb["cells"]
            if c.get("cell_type") == "code" and "remove-cell" not in c.get("metadata", {}).get("tags", [])]
    if "## Exercises" not in prose:
        raise ValueError(f"{path}: no '## Exercises' section, so no exercises to count")
    heads = [m.group("head").lower() for m in _EXERCISE.finditer(prose.split("## Exercises", 1)[1])]
    auto = sum("auto-checked" in h for h in heads)
    return Estimate(
        chapter=path.stem,
        words=len(prose.split()),
        code_cells=len(code),
        code_lines=sum(1 for cell in code for line in cell.splitlines() if line.strip()),
        predictions=sum("check_prediction(prediction" in cell for cell in code),
        auto_exercises=auto,
        written_exercises=len(heads) - auto,
    )


def estimate_sentence(e: Estimate) -> str:
    """The sentence a chapter's first cell states after ``**Estimated time.**``."""
    return (f"About {e.total} minutes: {e.reading} reading, {e.code} code, {e.exercises} exercises "
            "([rule](../book/instructors.md)).")


def _chapters(root: Path) -> list[Path]:
    return [p for p in chapter_paths(root) if read_notebook(p)["metadata"].get("cam_book", {}).get("kind") != "reference"]


def stale(root: Path = ROOT) -> dict[str, tuple[str | None, str]]:
    """The chapters whose first cell does not state today's estimate: {name: (stated, computed)}."""
    found = {}
    for path in _chapters(root):
        nb = read_notebook(path)
        first = source(nb["cells"][0])
        match = ESTIMATE_LINE.search(first)
        wanted = estimate_sentence(estimate(path))
        if match is None or match.group("sentence") != wanted:
            found[path.name] = (match.group("sentence") if match else None, wanted)
    return found


def write(root: Path = ROOT) -> list[str]:
    """Put today's estimate into every chapter's first cell; returns the chapters changed."""
    changed = []
    for path in _chapters(root):
        nb = read_notebook(path)
        first = source(nb["cells"][0])
        if ESTIMATE_LINE.search(first) is None:
            raise ValueError(f"{path}: the first cell has no '**Estimated time.** About N minutes: …' sentence")
        new = ESTIMATE_LINE.sub(lambda m: "**Estimated time.** " + estimate_sentence(estimate(path)), first)
        if new != first:
            lines = new.splitlines(keepends=True)
            nb["cells"][0]["source"] = lines
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            changed.append(path.name)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book_tools.chapter_times",
                                     description="Each chapter's estimated time, by the rule in this module.")
    parser.add_argument("--write", action="store_true", help="write the estimates into the chapters' first cells")
    args = parser.parse_args(argv)
    for path in _chapters(ROOT):
        e = estimate(path)
        print(f"{path.stem:32} {e.total:4d} min = {e.reading:3d} text ({e.words:,} words) + {e.code:3d} code "
              f"({e.code_cells} cells, {e.code_lines} lines) + {e.exercises:3d} exercises "
              f"({e.auto_exercises} auto-checked, {e.written_exercises} written)")
    if args.write:
        print("changed:", ", ".join(write(ROOT)) or "nothing")
        return 0
    left = stale(ROOT)
    for name in left:
        print(f"{name}: its first cell does not state today's estimate; run python -m book_tools.chapter_times --write",
              file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
