"""Accessibility: every figure has alt text (or a caption); colour maps are perceptually
uniform and colour-blind safe.

How a figure gets its alt text. The figures are outputs of notebook code cells. myst-nb
(1.x) gives every image output of a cell the ``alt`` found in the cell's metadata
``{"mystnb": {"image": {"alt": "..."}}}`` — the same text for each image of the cell;
without it the ``alt`` of the <img> is the image's file name (``_images/<hash>.png``).
A cell may instead carry ``{"mystnb": {"figure": {"caption": "..."}}}``: myst-nb then
wraps each of its display outputs in a <figure> with a <figcaption>.
``tests/site/test_site.py`` checks the built pages against the same two rules; the
rule below, which decides from the source which cells show a figure, is checked there
too, because a missed cell shows up on the site as an image whose alt is a file name.
"""

import ast
import json
import re

import matplotlib
import numpy as np
import pytest
from book_layout import ROOT
from skimage.color import rgb2lab

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# Every module of the two packages, subpackages included.
MODULES = sorted((ROOT / "tutorial_utils").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))


def _code_cells(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def _parse(source):
    """The cell's Python, without IPython magics and shell lines."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


# --------------------------------------------------------------------------- figures

# pyplot calls that draw into a (new or current) figure.
_PYPLOT_DRAWS = {"subplots", "subplot", "subplot_mosaic", "figure", "imshow", "matshow",
                 "plot", "bar", "barh", "hist", "scatter", "pcolormesh", "contourf"}


def _dotted(node):
    """``plt.show`` for ``plt.show()``, ``.imshow`` for ``axes[0].imshow()``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base and not base.startswith(".") else f".{node.attr}"
    return ""


def shows_figure(source: str) -> bool:
    """Whether a code cell shows a matplotlib figure under it when executed.

    With the inline backend a figure appears when the cell calls ``plt.show()``,
    ``fig.show()`` or ``display(fig)``, or when a figure it drew is still open at the
    end of the cell. A figure that is saved and closed (``plt.close``) does not appear:
    chapter 1's tabs turn their figures into widget images that way.

    >>> shows_figure("fig, ax = plt.subplots()\\nax.plot([1, 2])")
    True
    >>> shows_figure("fig = plt.figure()\\nfig.savefig(buf)\\nplt.close(fig)")
    False

    Raises ``SyntaxError`` when the cell is not Python.
    """
    calls = [n for n in ast.walk(_parse(source)) if isinstance(n, ast.Call)]
    names = [_dotted(c.func) for c in calls]
    shown = any(
        name == "plt.show"
        or (name.endswith(".show") and name.split(".")[0].startswith("fig"))
        or (name == "display" and c.args and _dotted(c.args[0]).startswith("fig"))
        for name, c in zip(names, calls)
    )
    drawn = any(
        (name.startswith("plt.") and name.split(".", 1)[1] in _PYPLOT_DRAWS)
        or (name == "plot_top_k" and not any(k.arg == "ax" for k in c.keywords))
        for name, c in zip(names, calls)
    )
    closed = "plt.close" in names
    return shown or (drawn and not closed)


def _alt(cell):
    return ((cell.get("metadata", {}).get("mystnb") or {}).get("image") or {}).get("alt")


def _caption(cell):
    return ((cell.get("metadata", {}).get("mystnb") or {}).get("figure") or {}).get("caption")


def alt_text_problem(text) -> str | None:
    """Why ``text`` is not a usable alt text or caption, or None if it is.

    It must be a sentence of at least five words that says what the figure shows;
    no digits (numbers are computed and can change; model facts are never typed);
    not a file name or path (myst-nb's fallback).
    """
    if not isinstance(text, str) or not text.strip():
        return "missing"
    if len(text.split()) < 5:
        return f"fewer than five words: {text!r}"
    if re.search(r"\.(png|jpe?g|svg|gif|pdf)\b|/|\\", text):
        return f"looks like a file name: {text!r}"
    if re.search(r"\d", text):
        return f"contains a number (numbers can change; say what is shown): {text!r}"
    return None


@pytest.mark.parametrize(
    "source,expected",
    [
        ("fig, ax = plt.subplots()\nax.imshow(x)\nplt.show()", True),
        ("fig, ax = plt.subplots()\nax.plot([1, 2])", True),                      # open at the end
        ("plt.imshow(img)\nplt.axis('off')", True),
        ("fig = make()\ndisplay(fig)", True),
        ("fig.show()", True),
        ("plot_top_k(preds)", True),                                               # makes its own figure
        ("fig, ax = plt.subplots()\nfig.savefig(buf)\nplt.close(fig)", False),
        ("plot_top_k(preds, ax=ax)", False),                                       # draws into a given axis
        ("display(Markdown(table))", False),
        ("# plt.show()\nx = 1", False),                                            # a comment
        ("print('plt.show()')", False),                                            # a string
        ("%matplotlib inline\nimport numpy as np", False),
    ],
)
def test_the_figure_rule(source, expected):
    assert shows_figure(source) is expected


def test_the_alt_text_rule():
    assert alt_text_problem("A cat and a cup of coffee, side by side.") is None
    assert alt_text_problem(None) == "missing"
    assert alt_text_problem("  ") == "missing"
    assert "five words" in alt_text_problem("A heatmap.")
    assert "number" in alt_text_problem("The top 5 classes of the coffee photo.")
    assert "file name" in alt_text_problem("_images/0f3a9c the figure of chapter three.png")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_alt_text_or_a_caption(path):
    offenders = []
    for i, cell in _code_cells(path):
        if not shows_figure("".join(cell["source"])):
            continue
        problems = [alt_text_problem(_alt(cell)), alt_text_problem(_caption(cell))]
        if all(problems):
            offenders.append(f"cell {i} (id {cell.get('id')}): alt {problems[0]}")
    assert not offenders, (
        f"{path.name}: figure cells need metadata {{\"mystnb\": {{\"image\": {{\"alt\": \"...\"}}}}}} "
        "that says what the figure shows:\n" + "\n".join(offenders)
    )


def test_alt_text_only_on_figure_cells_and_never_copied():
    stale, seen, copies = [], {}, []
    for path in NOTEBOOKS:
        for i, cell in _code_cells(path):
            for text in (_alt(cell), _caption(cell)):
                if text is None:
                    continue
                if not shows_figure("".join(cell["source"])):
                    stale.append(f"{path.name} cell {i}")
                if text in seen:
                    copies.append(f"{path.name} cell {i} repeats {seen[text]}")
                seen[text] = f"{path.name} cell {i}"
    assert seen, "no alt text at all"
    assert not stale, f"alt text on cells that show no figure (moved code?): {stale}"
    assert not copies, f"each figure needs its own description: {copies}"


# --------------------------------------------------------------------------- colour maps

# Sequential maps whose CIELAB lightness changes monotonically (the test below measures
# it, also as seen with each simulated colour-vision deficiency).
SEQUENTIAL = {"viridis", "inferno", "magma", "plasma", "cividis", "gray", "Greys"}
# Diverging maps for signed data: lightness peaks in the middle, and the two sides stay
# distinguishable with every simulated colour-vision deficiency (measured below).
DIVERGING = {"RdBu", "PuOr", "coolwarm"}
ALLOWED = {m + r for m in SEQUENTIAL | DIVERGING for r in ("", "_r")}
# Chapter 3 shows "jet" on purpose, next to the default, to measure why it is bad.
# Allowed only in that cell.
DELIBERATE = {("03_cam.ipynb", "0491252e"): {"jet"}}
# Okabe & Ito's palette, readable with every kind of colour blindness: the only colours
# allowed in a hand-made categorical colour map (ListedColormap).
OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}

# Machado, Oliveira & Fernandes (2009), full severity, applied in linear RGB.
CVD = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}
# Two colours closer than this (CIE76 ΔE) are hard to tell apart at a glance.
DISTINCT = 15.0


def _simulate(rgb, kind):
    """sRGB colours (N×3 in [0, 1]) as seen with colour-vision deficiency ``kind``."""
    if kind is None:
        return rgb
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(linear @ np.array(CVD[kind]).T, 0, 1)
    return np.where(seen <= 0.0031308, 12.92 * seen, 1.055 * seen ** (1 / 2.4) - 0.055)


def _lab(name, kind=None):
    rgb = matplotlib.colormaps[name](np.linspace(0, 1, 256))[:, :3]
    return rgb2lab(_simulate(rgb, kind)[None])[0]


def _monotonic(values):
    d = np.diff(values)
    return bool(np.all(d > 0) or np.all(d < 0))


def test_the_cvd_simulation():
    # Rows sum to one: greys look the same to everyone ...
    grey = np.full((1, 3), 0.5)
    for kind in CVD:
        assert np.allclose(_simulate(grey, kind), grey, atol=1e-3)
    # ... while red and green, far apart for normal vision, nearly merge with deuteranopia.
    red, green = np.array([[0.8, 0.2, 0.1]]), np.array([[0.3, 0.6, 0.1]])
    far = np.linalg.norm(rgb2lab(red[None]) - rgb2lab(green[None]))
    near = np.linalg.norm(rgb2lab(_simulate(red, "deuteranopia")[None]) - rgb2lab(_simulate(green, "deuteranopia")[None]))
    assert near < far / 3


def test_default_colour_map_lightness_rises_monotonically():
    from tutorial_utils.viz import DEFAULT_CMAP

    assert DEFAULT_CMAP in SEQUENTIAL
    L = _lab(DEFAULT_CMAP)[:, 0]
    assert np.all(np.diff(L) > 0), f"{DEFAULT_CMAP}: CIELAB lightness is not monotonic"
    # The measurement can fail: jet's lightness rises and falls.
    assert not _monotonic(_lab("jet")[:, 0])


@pytest.mark.parametrize("name", sorted(SEQUENTIAL))
@pytest.mark.parametrize("kind", [None, *CVD])
def test_allowed_sequential_maps_stay_ordered_for_every_viewer(name, kind):
    L = _lab(name, kind)[:, 0]
    assert _monotonic(L), f"{name} seen with {kind or 'normal vision'}: lightness is not monotonic"


@pytest.mark.parametrize("name", sorted(DIVERGING))
@pytest.mark.parametrize("kind", [None, *CVD])
def test_allowed_diverging_maps_keep_their_two_sides_apart(name, kind):
    lab = _lab(name, kind)
    L = lab[:, 0]
    peak = int(np.argmax(L))
    assert 0.45 < peak / 255 < 0.55, f"{name}: lightness peaks at {peak / 255:.2f}, not in the middle"
    assert _monotonic(L[: peak + 1]) and _monotonic(L[peak:]), f"{name}: lightness is not ordered on each side"
    # A value and its negative must look different (away from the centre).
    mirrored = np.linalg.norm(lab[:100] - lab[::-1][:100], axis=1)
    assert mirrored.min() > DISTINCT, f"{name} seen with {kind or 'normal vision'}: +v and -v look alike"


def test_the_diverging_check_rejects_a_red_green_map():
    lab = _lab("RdYlGn", "deuteranopia")
    assert np.linalg.norm(lab[:100] - lab[::-1][:100], axis=1).min() < DISTINCT


def _sources():
    """(where, key, Python source) for every module and notebook code cell."""
    for path in MODULES:
        yield path.relative_to(ROOT).as_posix(), None, path.read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        for i, cell in _code_cells(path):
            yield f"{path.name} cell {i}", (path.name, cell.get("id")), "".join(cell["source"])


def _colour_map_uses(tree):
    """Colour maps named in the code: string literals that are registered colour maps,
    ``cm.<name>`` attributes, and names passed as ``cmap=`` (or a ``cmap`` default)."""
    registered = set(matplotlib.colormaps)
    literals = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in registered]
    attributes = [n.attr for n in ast.walk(tree)
                  if isinstance(n, ast.Attribute) and _dotted(n.value).split(".")[-1] == "cm"]
    passed = [k.value for n in ast.walk(tree) if isinstance(n, ast.Call) for k in n.keywords if k.arg == "cmap"]
    for n in ast.walk(tree):
        if isinstance(n, (ast.FunctionDef, ast.Lambda)):
            args = n.args.args + n.args.kwonlyargs
            defaults = [None] * (len(n.args.args) - len(n.args.defaults)) + n.args.defaults + n.args.kw_defaults
            passed += [d for a, d in zip(args, defaults) if a.arg == "cmap" and d is not None]
    names = [p.id for p in passed if isinstance(p, ast.Name)]
    return literals + attributes, names


def _listed_colour_maps(tree):
    """{name: [colours]} for ``NAME = ListedColormap([...])`` assignments."""
    found = {}
    for n in ast.walk(tree):
        if (isinstance(n, ast.Assign) and isinstance(n.value, ast.Call)
                and _dotted(n.value.func).split(".")[-1] == "ListedColormap"):
            colours = ast.literal_eval(n.value.args[0]) if n.value.args else None
            for target in n.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = colours
    return found


def test_colour_maps_in_the_code_are_uniform_and_colour_blind_safe():
    offenders, used_exceptions, listed = [], set(), {}
    parsed = [(where, key, _parse(source)) for where, key, source in _sources()]
    for _, _, tree in parsed:
        listed.update(_listed_colour_maps(tree))
    for where, key, tree in parsed:
        maps, names = _colour_map_uses(tree)
        for name in maps:
            if name in ALLOWED:
                continue
            if name in DELIBERATE.get(key, set()):
                used_exceptions.add(key)
                continue
            offenders.append(f"{where}: colour map {name!r}")
        for name in names:
            if name not in {"DEFAULT_CMAP", "cmap"} and name not in listed:
                offenders.append(f"{where}: cmap={name}, which is not DEFAULT_CMAP or a ListedColormap")
        for n in ast.walk(tree):
            called = _dotted(n.func) if isinstance(n, ast.Call) else ""
            # Changing matplotlib's default map (viridis) for images drawn without cmap=.
            if called.split(".")[-1] in {"set_cmap", "rc"} or (isinstance(n, ast.Constant) and n.value == "image.cmap"):
                offenders.append(f"{where}: changes the default colour map")
            if called.split(".")[-1] in {"from_list", "LinearSegmentedColormap"}:
                offenders.append(f"{where}: a hand-made continuous colour map")
    for name, colours in listed.items():
        bad = [c for c in colours or [None] if not isinstance(c, str) or c.upper() not in OKABE_ITO]
        if bad:
            offenders.append(f"ListedColormap {name}: colours {bad} are not from the Okabe-Ito palette")
    assert matplotlib.rcParams["image.cmap"] in SEQUENTIAL, "matplotlib's default map is used by imshow without cmap="
    assert not offenders, "\n".join(sorted(set(offenders)))
    stale = set(DELIBERATE) - used_exceptions
    assert not stale, f"the deliberate exception {stale} is no longer used: remove it from DELIBERATE"


def test_categorical_colour_maps_stay_apart_for_every_viewer():
    listed = {}
    for _, _, source in _sources():
        listed.update(_listed_colour_maps(_parse(source)))
    assert listed, "no ListedColormap found: is chapter 8's label map gone? Then drop this test"
    for name, colours in listed.items():
        rgb = np.array([matplotlib.colors.to_rgb(c) for c in colours])
        for kind in [None, *CVD]:
            lab = rgb2lab(_simulate(rgb, kind)[None])[0]
            d = np.linalg.norm(lab[:, None] - lab[None], axis=2)[np.triu_indices(len(lab), 1)]
            assert d.min() > DISTINCT, f"{name} seen with {kind or 'normal vision'}: two classes look alike"
