"""`make student`: the student edition holds no line of any written solution, and the grader finds nothing attempted in it."""

import json
import subprocess
import sys

import pytest

from book_tools import student_edition
from book_tools.notebooks import ROOT, SOLUTION, chapter_paths, read_notebook, source
from book_tools import EXERCISES

CHAPTERS = chapter_paths()


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    student_edition.build(out)
    return out


def _solution_lines(nb) -> set[str]:
    """The lines that only the solutions hold: each solution's non-trivial lines that occur nowhere else in the chapter."""
    rest = "\n".join(SOLUTION.sub("", source(c)) for c in nb["cells"])
    lines = set()
    for block in student_edition.solutions(nb):
        for line in block.splitlines():
            line = line.strip()
            if len(line) >= 12 and line not in rest and not line.startswith(("<", "```")):
                lines.add(line)
    return lines


def test_every_chapter_is_in_the_edition(edition):
    assert sorted(p.name for p in edition.glob("*.ipynb")) == sorted(p.name for p in CHAPTERS)
    assert (edition / "README.md").is_file()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_solution_text_survives(edition, path):
    nb = read_notebook(path)
    student = (edition / path.name).read_text(encoding="utf-8")
    text = "\n".join(source(c) for c in json.loads(student)["cells"])
    unique = _solution_lines(nb)
    if student_edition.solutions(nb):
        assert unique, f"{path.name}: its solutions have no line of their own to look for"
    survived = sorted(line for line in unique if line in text)
    assert not survived, f"{path.name}: solution text in the student edition: {survived[:3]}"
    assert "<summary>Solution</summary>" not in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_only_the_solutions_are_removed(edition, path):
    nb, student = read_notebook(path), read_notebook(edition / path.name)
    code = [source(c) for c in nb["cells"] if c["cell_type"] == "code"]
    assert [source(c) for c in student["cells"] if c["cell_type"] == "code"] == code  # stubs and predictions intact
    assert all(not c["outputs"] for c in student["cells"] if c["cell_type"] == "code")
    kept = [" ".join(SOLUTION.sub("", source(c)).split()) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert [" ".join(source(c).split()) for c in student["cells"] if c["cell_type"] == "markdown"] == [k for k in kept if k]
    assert student["metadata"]["cam_book"]["edition"] == "student"


def test_a_solution_left_in_is_found(tmp_path):
    """The check can fail: a solution that the edition failed to remove is reported."""
    nb = read_notebook(ROOT / "notebooks" / "03_cam.ipynb")
    lines = _solution_lines(nb)
    leaked = student_edition.student_notebook(nb)
    leaked["cells"].append({"cell_type": "markdown", "metadata": {}, "source": student_edition.solutions(nb)[0]})
    text = "\n".join(source(c) for c in leaked["cells"])
    assert any(line in text for line in lines)


def test_the_grader_finds_every_exercise_not_attempted(edition):
    run = subprocess.run([sys.executable, "-m", "tutorial_utils", "check", str(edition), "--json"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, (run.returncode, run.stderr[-2000:])
    records = json.loads(run.stdout)
    assert records and not any(r["attempted"] for r in records), [r for r in records if r["attempted"]][:3]
    # Every exercise is in its own chapter's notebook, as a stub the grader saw and reported.
    for ex in EXERCISES.values():
        mine = [r for r in records if r["function"] == ex.function and r["file"].endswith(f"{ex.chapter}.ipynb")]
        assert len(mine) == 1 and "not attempted" in mine[0]["message"], (ex.function, mine)
