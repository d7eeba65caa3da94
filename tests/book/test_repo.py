"""Rules of the repository that keep the book honest and reproducible."""

import json
import re
import subprocess
from pathlib import Path

import pytest
from book_layout import ROOT, toc_files

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# A notebook whose metadata says {"cam_book": {"kind": "reference"}} is a page of
# results, not a chapter: it needs no objectives or exercises.
CHAPTERS = [p for p in NOTEBOOKS if json.loads(p.read_text())["metadata"].get("cam_book", {}).get("kind") != "reference"]
PAGES = sorted((ROOT / "book").glob("*.md"))


def _markdown(nb_path):
    nb = json.loads(nb_path.read_text())
    return [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {i} has outputs: clear them before committing"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"
        # jupyterlab-myst saves the values of a Markdown cell's {eval} roles in its metadata.
        assert "user_expressions" not in cell.get("metadata", {}), \
            f"{path.name} cell {i} carries saved {{eval}} results (user_expressions): clear them before committing"
    assert "widgets" not in nb["metadata"], f"{path.name} carries saved widget state"
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_are_valid(path):
    import nbformat

    nbformat.validate(nbformat.read(path, as_version=4))


def test_toc_lists_every_chapter_and_every_entry_exists():
    files = toc_files()
    for entry in files:
        candidates = [ROOT / f"{entry}{ext}" for ext in (".md", ".ipynb")] + [ROOT / entry]
        assert any(c.is_file() for c in candidates), f"_toc.yml lists {entry}, which does not exist"
    listed = set(files)
    for nb in NOTEBOOKS:
        assert nb.relative_to(ROOT).with_suffix("").as_posix() in listed, f"{nb.name} is not in _toc.yml"
    for page in PAGES:
        assert page.relative_to(ROOT).with_suffix("").as_posix() in listed, f"{page.name} is not in _toc.yml"


def test_reference_pages_are_few_and_known():
    reference = sorted(p.name for p in set(NOTEBOOKS) - set(CHAPTERS))
    assert reference == ["05b_your_photo.ipynb", "12b_benchmark_results.ipynb", "13_troubleshooting.ipynb"], reference


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapters_have_objectives_time_and_hidden_solutions(path):
    cells = _markdown(path)
    head = cells[0]
    for needed in ("Learning objectives", "Prerequisites", "Estimated time"):
        assert needed in head, f"{path.name}: the first cell must state '{needed}'"
    text = "\n".join(cells)
    assert re.search(r"^## Exercises", text, re.M), f"{path.name} has no Exercises section"
    assert text.count("<details>") >= 3, f"{path.name}: at least three exercises with hidden solutions"
    assert re.search(r"^## Summary", text, re.M), f"{path.name} has no Summary section"


def test_requirements_are_pinned():
    lines = [
        line.split("#")[0].strip()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
    ]
    reqs = [line for line in lines if line]
    assert reqs
    for req in reqs:
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[A-Za-z0-9_.+\-]+", req), f"not pinned with ==: {req}"
    pins = dict(r.split("==") for r in reqs)
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["jupyter-book"] == "1.0.4.post1"


def test_ci_runs_make_test_and_nothing_else():
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "exec make test"
    assert all(c.startswith(("set ", "cd ", "exec make test")) for c in commands), commands


def test_readme_shows_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme and "make test" in readme


def _model_facts():
    """Numbers that belong to the models: they must be computed and quoted with {eval}, never typed."""
    import torchvision

    from tutorial_utils import load_model

    facts = set()
    lite = load_model("efficientnet_lite0", verbose=False)
    resnet = torchvision.models.resnet50()
    crop = torchvision.models.ResNet50_Weights.DEFAULT.transforms().crop_size[0]
    for K, n_params, n_classes in (
        (lite.num_channels, lite.num_parameters(), lite.num_classes),
        (resnet.fc.in_features, sum(p.numel() for p in resnet.parameters()), resnet.fc.out_features),
    ):
        facts |= {f"{K}", f"{K:,}", f"{n_params:,}", f"{n_params}", f"{n_classes}", f"{n_classes:,}"}
    facts |= {str(lite.input_size[0]), str(crop)}
    import torch

    with torch.no_grad():
        _, f = lite.forward_features(torch.zeros(1, 3, *lite.input_size))
    h = f.shape[-1]
    facts |= {f"{h}×{h}", f"{h}x{h}"}
    return facts


def test_prose_does_not_type_model_facts():
    facts = _model_facts()
    pattern = re.compile(r"(?<![\w.,])(" + "|".join(re.escape(f) for f in sorted(facts, key=len, reverse=True)) + r")(?![\w]|[.,]\d)")
    texts = [(p.name, p.read_text()) for p in PAGES] + [
        (f"{nb.name} markdown cell {i}", md) for nb in NOTEBOOKS for i, md in enumerate(_markdown(nb))
    ]
    offenders = [(where, m.group(0)) for where, text in texts for m in pattern.finditer(text)]
    assert not offenders, f"model facts typed into prose (compute them and quote them with {eval} instead): {offenders}"


def test_git_ignores_build_products():
    # A file inside each folder: git matches "dir/" patterns only against what it
    # knows to be a directory, and _build does not exist before the first build.
    products = [".venv", "_build", "book/_vendor/node_modules", "book/_vendor/site", "test-artifacts"]
    result = subprocess.run(
        ["git", "check-ignore", *(f"{p}/any-file" for p in products)],
        cwd=ROOT, capture_output=True, text=True,
    )
    if result.returncode == 128:
        pytest.skip("not a git checkout")
    ignored = {line.split("/any-file")[0] for line in result.stdout.split()}
    assert ignored == set(products), f"not ignored by git: {set(products) - ignored}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_prose_quotes_values_with_eval_not_glue(path):
    """{glue:text} shows raw in JupyterLab; {eval} renders there (jupyterlab-myst) and on the website
    (myst-nb, inline execution). glue() calls would be publishing plumbing in the code a reader studies."""
    nb = json.loads(path.read_text())
    roles = [m.group(0) for md in _markdown(path) for m in re.finditer(r"\{glue(?::\w+)?\}`[^`]*`", md)]
    calls = [line.strip() for code in _code(path) for line in code.splitlines()
             if re.search(r"\bglue\(|from myst_nb import glue", line)]
    assert not roles, f"{path.name}: glue roles in the prose: {roles[:5]}"
    assert not calls, f"{path.name}: glue calls in the code: {calls[:5]}"
    assert nb["metadata"].get("mystnb", {}).get("execution_mode", "inline") == "inline"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_role_inside_a_code_span(path):
    # `{eval}`x`` in a code span renders as code, not as the value: the site checks cannot see it.
    offenders = [m.group(0) for md in _markdown(path)
                 for m in re.finditer(r"`\{(?:eval|glue|glue:text|cite|cite:p|cite:t|doc|ref|eq|numref)\}`[^`]*``", md)]
    assert not offenders, f"{path.name}: roles inside code spans: {offenders[:5]}"


def _code(nb_path):
    cells = json.loads(nb_path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


# A seed written as a number (manual_seed(0), default_rng(1), seed=2, random_state=0) is
# randomness that CAM_BOOK_SEED does not reach.
_LITERAL_SEED = re.compile(
    r"(manual_seed|default_rng|random\.seed|np\.random\.seed)\(\s*\d"
    r"|\b(seed|random_state|random_seed)\s*=\s*\d")


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if "12b" not in p.name], ids=lambda p: p.name)
def test_every_chapter_draws_its_randomness_from_one_seed(path):
    """One helper call at the top sets the seed from CAM_BOOK_SEED; no seed is typed below it."""
    code = _code(path)
    imports = code[1]  # the cell after the install cell
    assert re.search(r"^SEED = set_seed\(\)", imports, re.M), f"{path.name}: no `SEED = set_seed()` in the first cell"
    for i, cell in enumerate(code):
        lines = [line for line in cell.splitlines() if not line.lstrip().startswith("#")]
        hits = [m.group(0) for m in _LITERAL_SEED.finditer("\n".join(lines))]
        assert not hits, f"{path.name}, code cell {i + 1}: a seed typed as a number: {hits}"


def test_the_results_page_has_no_randomness():
    # 12b only reads the recorded benchmark; it draws no random number and needs no seed.
    code = "\n".join(_code(ROOT / "notebooks" / "12b_benchmark_results.ipynb"))
    assert not re.search(r"random|randn|rand\(|manual_seed|shuffle", code)


def test_make_test_runs_the_chapters_twice_differently():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^NBVAL_SEED \?= (\d+)$", makefile, re.M).group(1) != "0"
    assert re.search(r"^NBVAL_THREADS \?= 1$", makefile, re.M)
    assert "CAM_BOOK_SEED=0 $(BIN)/jupyter-book build" in makefile
    nbval = next(line for line in makefile.splitlines() if "--nbval" in line)
    assert "OMP_NUM_THREADS=$(NBVAL_THREADS)" in nbval and "CAM_BOOK_SEED=$(NBVAL_SEED)" in nbval


def test_no_control_characters_in_the_sources():
    """A backslash lost in a non-raw string (\\b, \\f in LaTeX such as \\bar, \\frac) leaves a control character."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    bad = []
    for name in tracked:
        if Path(name).suffix in (".py", ".md", ".ipynb", ".yml", ".yaml", ".txt", ".js", ".css", ".bib"):
            text = (ROOT / name).read_text(encoding="utf-8")
            bad += [f"{name}:{text[:m.start()].count(chr(10)) + 1}" for m in re.finditer(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", text)]
    assert not bad, f"control characters (a lost backslash?) at {bad}"
