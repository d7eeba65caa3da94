"""What the book consists of, read from _toc.yml, and where it is built (shared by the book, site and browser tests)."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
#: The website `make book` builds (jupyter-book's html builder).
SITE = ROOT / "_build" / "html"


def toc_files() -> list[str]:
    """Every entry of _toc.yml, in order, without file extension (e.g. ``notebooks/01_first_look``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [section["file"] for section in chapter.get("sections", [])]
    return [Path(f).with_suffix("").as_posix() for f in files]


# ------------------------------------------------------------ what each page shows
# The site and browser tests check math, widgets and figures on the pages that must
# have them, and fail if such a page has none: if MathJax, widget embedding or the
# figures broke everywhere, no test may pass by finding nothing to check. A page
# that gains or loses one of these updates its row here.
#
#   math     equations, typeset by the site's own MathJax
#   widgets  ipywidgets embedded with their saved state (rendered by the site's own
#            widget manager)
#   figures  pictures in the page's content: notebook figures and <img> outputs
#            (not the theme's icons under _static/)
MATH, WIDGETS, FIGURES = "math", "widgets", "figures"
FEATURES = (MATH, WIDGETS, FIGURES)
_CHAPTER = frozenset({MATH, FIGURES})
PAGE_FEATURES: dict[str, frozenset[str]] = {
    "book/intro": frozenset(),
    "book/setup": frozenset(),
    "notebooks/01_first_look": _CHAPTER | {WIDGETS},  # the tabs of predictions and CAMs
    "notebooks/02_inside_resnet50": _CHAPTER,
    "notebooks/03_cam": _CHAPTER,
    "notebooks/04_slic": _CHAPTER,
    # The SecamExplorer's widgets need a kernel: the website shows its own explorer instead
    # (tests/browser/test_browser.py moves its controls).
    "notebooks/05_secam": _CHAPTER,
    # No math on purpose: without MathJax the page weighs under 3 MB before the network loads.
    "notebooks/05b_your_photo": frozenset(),
    "notebooks/06_grad_cam": _CHAPTER,
    "notebooks/07_guided_backprop": _CHAPTER,
    "notebooks/08_segmentation": _CHAPTER,
    "notebooks/08b_vision_transformers": _CHAPTER,
    "notebooks/09_feature_visualisation": _CHAPTER,
    "notebooks/10_shortcut": _CHAPTER,
    "notebooks/11_faithfulness": _CHAPTER,
    "notebooks/12_benchmark": _CHAPTER,
    "notebooks/12b_benchmark_results": frozenset({FIGURES}),
    "notebooks/13_troubleshooting": _CHAPTER,  # one figure (the whole map lights up), inline math
    "book/cheatsheet": frozenset({MATH}),
    "book/glossary": frozenset({MATH}),
    "book/bibliography": frozenset(),
    "book/instructors": frozenset(),
}


def pages_with(feature: str) -> list[str]:
    """The _toc.yml entries whose page must show ``feature`` (math, widgets or figures), in toc order."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; choose one of {FEATURES}")
    return [name for name in toc_files() if feature in PAGE_FEATURES.get(name, ())]


#: A value an {eval} role quotes that reads as code, not prose: a NumPy or torch repr, None, NaN
#: (checked on the website by tests/site and in JupyterLab by tests/browser/test_jupyterlab.py).
CODE_LIKE_VALUE = re.compile(r"^(np\.|numpy\.|tensor\(|array\()|^(None|nan|NaN)$|\bnan\b")
