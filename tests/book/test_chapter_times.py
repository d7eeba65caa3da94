"""Every chapter's estimated time is what the stated rule (book_tools.chapter_times) gives for its content today."""

import copy
import json

import pytest

from book_tools import chapter_times as ct
from book_tools.notebooks import ROOT, chapter_paths, read_notebook
from book_tools import EXERCISES

CHAPTERS = [p for p in chapter_paths() if read_notebook(p)["metadata"].get("cam_book", {}).get("kind") != "reference"]


def test_every_chapter_states_todays_estimate():
    left = ct.stale()
    assert not left, ("chapters whose 'Estimated time' is not the rule's for their content "
                      f"(run `python -m book_tools.chapter_times --write`): {left}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_the_rule_counts_the_registered_exercises(path):
    e = ct.estimate(path)
    assert e.auto_exercises == sum(ex.chapter == path.stem for ex in EXERCISES.values()) == 2
    assert e.written_exercises >= 1 and e.predictions == 1
    assert e.total == e.reading + e.code + e.exercises


def _write(tmp_path, nb):
    path = tmp_path / "00_chapter.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_more_content_gives_more_time_and_solutions_are_not_read(tmp_path):
    nb = json.loads((ROOT / "notebooks" / "03_cam.ipynb").read_text())
    base = ct.estimate(_write(tmp_path, nb))
    longer = copy.deepcopy(nb)
    longer["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": "word " * 1500})
    assert ct.estimate(_write(tmp_path, longer)).reading == base.reading + 10
    hidden = copy.deepcopy(nb)
    hidden["cells"].insert(1, {"cell_type": "markdown", "metadata": {},
                               "source": "<details>\n<summary>Solution</summary>\n\n" + "word " * 1500 + "\n</details>"})
    assert ct.estimate(_write(tmp_path, hidden)) == ct.estimate(_write(tmp_path, nb))
    code = copy.deepcopy(nb)
    code["cells"].insert(1, {"cell_type": "code", "metadata": {}, "source": "x = 1\n" * 150, "outputs": [],
                             "execution_count": None})
    assert ct.estimate(_write(tmp_path, code)).code >= base.code + 10


def test_a_typed_estimate_is_stale(tmp_path, monkeypatch):
    """The rule can fail: a chapter whose sentence was typed, or left behind by an edit, is reported."""
    import shutil

    book = tmp_path / "book"
    (book / "notebooks").mkdir(parents=True)
    shutil.copy(ROOT / "_toc.yml", book / "_toc.yml")
    for path in CHAPTERS[:2]:
        shutil.copy(path, book / "notebooks" / path.name)
    assert ct.stale(book) == {}
    first = book / "notebooks" / CHAPTERS[0].name
    nb = json.loads(first.read_text())
    nb["cells"][0]["source"] = [line.replace("About ", "About 1") for line in nb["cells"][0]["source"]]
    first.write_text(json.dumps(nb))
    assert list(ct.stale(book)) == [CHAPTERS[0].name]
    assert ct.write(book) == [CHAPTERS[0].name] and ct.stale(book) == {}


def test_a_chapter_without_exercises_is_a_clear_error(tmp_path):
    path = _write(tmp_path, {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# A page"}], "metadata": {}})
    with pytest.raises(ValueError, match="00_chapter.ipynb: no '## Exercises' section"):
        ct.estimate(path)
    (tmp_path / "bad.ipynb").write_text("{")
    with pytest.raises(ValueError, match="bad.ipynb: not a notebook"):
        ct.estimate(tmp_path / "bad.ipynb")
