"""The parts every chapter has since issue 18, read from the notebooks.

* Short code cells: none longer than MAX_CELL_LINES, so a reader can take one in at a glance.
* The network named near the top: a chapter that loads the trained model quotes
  ``model_note(model)`` in a text cell after the model is loaded and before the first section.
* One predict-then-check question: a text cell that opens with "**Predict, then check.**",
  then a code cell that starts with ``prediction = None`` and calls ``check_prediction(prediction, …)``.
* Diagrams drawn by code: each diagram function is called in its chapter, in a cell whose
  alt text begins with "Diagram:".
"""

import ast
import json
import re

import pytest
from book_layout import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = [p for p in NOTEBOOKS if json.loads(p.read_text())["metadata"].get("cam_book", {}).get("kind") != "reference"]
MAX_CELL_LINES = 40
MODEL_NOTE = "{eval}`model_note(model)`"
PREDICT = "**Predict, then check.**"
DIAGRAMS = {  # function: the chapter that shows it
    "resnet50_diagram": "02_inside_resnet50",
    "cam_pipeline_diagram": "03_cam",
    "slic_toy_diagram": "04_slic",
    "secam_pipeline_diagram": "05_secam",
    "vit_diagram": "08b_vision_transformers",
}


def _cells(path):
    return json.loads(path.read_text())["cells"]


def _src(cell):
    return "".join(cell["source"])


def _python(source):
    """A code cell's source as Python: IPython's magics (lines that start with % or !) become comments."""
    return "\n".join("#" + line if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _alt(cell):
    return ((cell.get("metadata", {}).get("mystnb") or {}).get("image") or {}).get("alt") or ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_code_cell_is_longer_than_the_limit(path):
    long = [f"cell {i} (id {c.get('id')}): {len(_src(c).splitlines())} lines"
            for i, c in enumerate(_cells(path))
            if c["cell_type"] == "code" and len(_src(c).splitlines()) > MAX_CELL_LINES]
    assert not long, f"{path.name}: code cells longer than {MAX_CELL_LINES} lines; split them: {long}"


def _first_section(cells):
    return next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                and re.search(r"^## ", _src(c), re.M))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_a_chapter_that_loads_the_model_names_it_before_its_first_section(path):
    cells = _cells(path)
    loads = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "load_model(" in _src(c)]
    notes = [i for i, c in enumerate(cells) if c["cell_type"] == "markdown" and MODEL_NOTE in _src(c)]
    if not loads:
        assert not notes, f"{path.name} quotes model_note but never loads the model"
        return
    assert len(notes) == 1, f"{path.name}: one text cell quoting {MODEL_NOTE} (found {len(notes)})"
    (note,) = notes
    assert loads[0] < note < _first_section(cells), (
        f"{path.name}: the model note (cell {note}) must come after the model is loaded (cell {loads[0]}) "
        f"and before the first section (cell {_first_section(cells)})")
    assert "../book/setup.md" in _src(cells[note]), f"{path.name}: the note links to Setup"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_each_chapter_asks_one_prediction_before_it_checks_it(path):
    cells = _cells(path)
    asks = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and "check_prediction(prediction" in _src(c)]
    assert len(asks) == 1, f"{path.name}: one predict-then-check cell (found {len(asks)})"
    (i,) = asks
    code = _src(cells[i])
    assert code.startswith("prediction = None"), f"{path.name} cell {i}: the cell starts with `prediction = None`"
    assert _src(cells[i - 1]).startswith(PREDICT), f"{path.name} cell {i - 1}: the question opens with {PREDICT}"
    assert "`prediction`" in _src(cells[i - 1]), f"{path.name} cell {i - 1}: the question says where the guess goes"
    # The reader's guess is the only value of `prediction` in the chapter.
    others = [k for k, c in enumerate(cells) if k != i and c["cell_type"] == "code"
              and any(isinstance(t, ast.Name) and t.id == "prediction" and isinstance(t.ctx, ast.Store)
                      for t in ast.walk(ast.parse(_python(_src(c)))))]
    assert not others, f"{path.name}: `prediction` is also assigned in cells {others}"


def test_the_diagrams_are_drawn_in_their_chapters_with_diagram_alt_text():
    for fn, chapter in DIAGRAMS.items():
        cells = _cells(ROOT / "notebooks" / f"{chapter}.ipynb")
        users = [c for c in cells if c["cell_type"] == "code" and f"{fn}(" in _src(c)]
        assert users, f"{chapter} does not draw {fn}"
        for cell in users:
            assert _alt(cell).startswith("Diagram:"), f"{chapter}: the cell drawing {fn} needs alt text 'Diagram: …'"
    for path in NOTEBOOKS:
        for i, c in enumerate(_cells(path)):
            if _alt(c).startswith("Diagram:"):
                assert "_diagram(" in _src(c), f"{path.name} cell {i}: alt says Diagram but draws none"
