r"""``make student``: every chapter as a notebook without the written solutions, for handing out.

The chapters in ``notebooks/`` are the teacher's edition: each exercise's
solution sits in the notebook, in a closed ``<details>`` block whose summary is
"Solution" (the website shows it on request). The student edition removes those
blocks — the text is gone from the file, not hidden — and keeps everything else
exactly: every code cell, so the auto-checked exercises stay the stubs that the
grader reports as "not attempted"; the predict-then-check cells, whose answer
waits in a closed toggle until the student runs the cell; the figures' code and
the prose. A Markdown cell that held only a solution is dropped. Outputs are
cleared, and the notebook's metadata says ``"cam_book": {"edition": "student"}``.

Run ``python -m book_tools.student_edition [--out DIR]`` (``make student`` writes
``_build/student/``). ``tests/book/test_student_edition.py`` checks that no line
of any source solution survives and that the grader, run over the edition as
written, exits 1 with every exercise "not attempted".

What the edition cannot remove: the checkers' reference implementations are the
library functions of ``tutorial_utils`` that the chapters teach (for example
``class_activation_map`` for ``my_cam``), and students need the library to run
the chapters.

>>> nb = {"cells": [{"cell_type": "markdown", "metadata": {},
...                  "source": "**1.** Why?\n\n<details>\n<summary>Solution</summary>\n\nBecause.\n</details>\n"}],
...       "metadata": {}}
>>> student_notebook(nb)["cells"][0]["source"]
'**1.** Why?\n'
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

from .notebooks import ROOT, SOLUTION, chapter_paths, read_notebook, source

__all__ = ["build", "main", "solutions", "student_notebook"]

README = """# CAM & SeCAM — the student edition

These notebooks are the chapters of the book without the written solutions of
their exercises. Work through them in order in JupyterLab; each auto-checked
exercise tells you when your function is right. Your teacher grades the
auto-checked exercises with `python -m tutorial_utils check`.

Code: MIT licence. Text and figures: CC BY 4.0 (see the book's LICENSE files).
"""


def solutions(nb: dict) -> list[str]:
    """The written solutions of a notebook: the text of every "Solution" ``<details>`` block."""
    return [m.group(0) for c in nb["cells"] if c.get("cell_type") == "markdown" for m in SOLUTION.finditer(source(c))]


def student_notebook(nb: dict) -> dict:
    """A copy of a chapter with its solutions removed, outputs cleared and ``edition: student`` in its metadata."""
    out = copy.deepcopy(nb)
    cells = []
    for cell in out["cells"]:
        if cell.get("cell_type") == "markdown":
            text = source(cell)
            if SOLUTION.search(text):
                text = re.sub(r"\n{3,}", "\n\n", SOLUTION.sub("", text)).strip("\n")
                if not text.strip():
                    continue  # the cell held only a solution
                cell["source"] = text + "\n"
        elif cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cells.append(cell)
    out["cells"] = cells
    out.setdefault("metadata", {}).setdefault("cam_book", {})["edition"] = "student"
    return out


def build(out: Path, root: Path = ROOT) -> list[Path]:
    """Write every chapter of the table of contents into ``out`` as a student notebook; returns the files."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OSError(f"{out}: cannot create the student edition's folder ({err.strerror})") from None
    written = []
    for path in chapter_paths(root):
        target = out / path.name
        target.write_text(json.dumps(student_notebook(read_notebook(path)), indent=1, ensure_ascii=False) + "\n",
                          encoding="utf-8")
        written.append(target)
    (out / "README.md").write_text(README, encoding="utf-8")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book_tools.student_edition",
                                     description="Write every chapter without its written solutions.")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "student", metavar="DIR",
                        help="where to write the notebooks (default: _build/student)")
    args = parser.parse_args(argv)
    try:
        written = build(args.out)
    except OSError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    removed = sum(len(solutions(read_notebook(p))) for p in chapter_paths(ROOT))
    print(f"Wrote {len(written)} notebooks to {args.out}, {removed} written solutions removed.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
