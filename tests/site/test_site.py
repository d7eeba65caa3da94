"""Checks of the built website (_build/html): it must render with no network.

`make test` builds the book first; run these with
`pytest tests/site` after `make book`.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from book_layout import CODE_LIKE_VALUE, FEATURES, FIGURES, MATH, PAGE_FEATURES, ROOT, SITE, WIDGETS, pages_with, toc_files

# Tags and attributes that make a browser fetch something while loading a page.
LOADING = {
    "script": ["src"],
    "img": ["src", "srcset"],
    "iframe": ["src"],
    "source": ["src", "srcset"],
    "video": ["src", "poster"],
    "audio": ["src"],
    "embed": ["src"],
    "object": ["data"],
    "input": ["src"],
}
LOADING_LINK_RELS = {"stylesheet", "preload", "modulepreload", "icon", "shortcut", "manifest", "prefetch"}


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.loads: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script_attrs = None
        self._script_text: list[str] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in LOADING.get(tag, []):
            if attrs.get(name):
                self.loads += [part.split()[0] for part in attrs[name].split(",")] if name == "srcset" else [attrs[name]]
        if tag == "link" and set((attrs.get("rel") or "").lower().split()) & LOADING_LINK_RELS and attrs.get("href"):
            self.loads.append(attrs["href"])
        if tag == "script":
            self._script_attrs, self._script_text = attrs, []
        if tag in ("script", "style", "pre", "code"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "script" and self._script_attrs is not None:
            self.scripts.append((self._script_attrs, "".join(self._script_text)))
            self._script_attrs = None
        if tag in ("script", "style", "pre", "code") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if self._script_attrs is not None:
            self._script_text.append(data)
        if not self._skip:
            self.text.append(data)


TOC_PAGES = toc_files()


@pytest.fixture(scope="session")
def site():
    if not (SITE / "index.html").is_file():
        pytest.fail("_build/html/index.html is missing: build the book first (make book)")
    return SITE


def _parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _all_pages(site):
    return sorted(p for p in site.rglob("*.html") if "_static" not in p.parts)


def _local_target(page_path: Path, url: str) -> Path:
    resolved = urljoin(page_path.relative_to(SITE).as_posix(), url)
    return SITE / urlparse(resolved).path


@pytest.mark.parametrize("name", TOC_PAGES)
def test_every_toc_page_was_built(site, name):
    assert (site / f"{name}.html").is_file(), f"{name}.html was not built"


def test_no_page_loads_anything_from_another_host(site):
    offenders = []
    for path in _all_pages(site):
        for url in _parse(path).loads:
            parsed = urlparse(url)
            if parsed.scheme in ("http", "https") or url.startswith("//"):
                offenders.append(f"{path.relative_to(site)}: {url}")
    assert not offenders, "pages load resources from other hosts:\n" + "\n".join(offenders)


def test_every_local_resource_exists(site):
    missing = []
    for path in _all_pages(site):
        for url in _parse(path).loads:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "http", "https") or url.startswith("//") or not parsed.path:
                continue
            if not _local_target(path, url).is_file():
                missing.append(f"{path.relative_to(site)}: {url}")
    assert not missing, "missing files:\n" + "\n".join(missing)


def _page(site, name):
    return site / f"{name}.html", _parse(site / f"{name}.html")


def _widget_scripts(page: Page, kind: str) -> list[dict]:
    return [json.loads(text) for attrs, text in page.scripts if attrs.get("type") == f"application/vnd.jupyter.widget-{kind}+json"]


def _features(path: Path, page: Page) -> set[str]:
    """Which of math, widgets and figures the built page shows."""
    found = set()
    if 'class="math' in path.read_text(encoding="utf-8"):
        found.add(MATH)
    if _widget_scripts(page, "view"):
        found.add(WIDGETS)
    if _content_images(path):
        found.add(FIGURES)
    return found


def test_every_toc_page_has_a_row_of_expectations():
    assert sorted(PAGE_FEATURES) == sorted(TOC_PAGES), (
        "tests/book_layout.py PAGE_FEATURES must list exactly the pages of _toc.yml: "
        f"missing {sorted(set(TOC_PAGES) - set(PAGE_FEATURES))}, extra {sorted(set(PAGE_FEATURES) - set(TOC_PAGES))}"
    )
    assert all(set(f) <= set(FEATURES) for f in PAGE_FEATURES.values())


@pytest.mark.parametrize("name", TOC_PAGES)
def test_page_shows_the_expected_math_widgets_and_figures(site, name):
    found = _features(*_page(site, name))
    expected = set(PAGE_FEATURES.get(name, ()))
    missing, extra = sorted(expected - found), sorted(found - expected)
    assert not missing, (
        f"{name} must show {missing} but the built page has none: the build lost them "
        "(MathJax markup, embedded widget state or the figures)"
    )
    assert not extra, (
        f"{name} now shows {extra}, which tests/book_layout.py does not expect there: "
        "if that is right, add them to its row in PAGE_FEATURES"
    )


@pytest.mark.parametrize("name", pages_with(MATH))
def test_math_is_typeset_by_local_mathjax(site, name):
    path, page = _page(site, name)
    html = path.read_text(encoding="utf-8")
    assert 'class="math' in html, f"{name} must have math (tests/book_layout.py) but has none"
    mathjax = [url for url in page.loads if "mathjax" in url.lower()]
    assert mathjax, f"{name} has math but loads no MathJax"
    for url in mathjax:
        assert _local_target(path, url).is_file(), url
    fonts = SITE / "_static" / "vendor" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2"
    assert any(fonts.glob("*.woff")), "MathJax's fonts are not served locally"


@pytest.mark.parametrize("name", pages_with(WIDGETS))
def test_embedded_widgets_have_their_state_and_local_javascript(site, name):
    path, page = _page(site, name)
    views = _widget_scripts(page, "view")
    assert views, f"{name} must embed widgets (tests/book_layout.py) but has no widget view: widget embedding broke"
    states = _widget_scripts(page, "state")
    assert len(states) == 1, "a page with widgets needs exactly one widget-state script"
    models = states[0]["state"]
    for view in views:
        assert view["model_id"] in models, f"widget view {view['model_id']} has no saved state"
    sources = [url for url in page.loads if url.endswith(".js") or ".js?" in url]
    for needed in ("require.js", "embed-amd.js"):
        found = [url for url in sources if needed in url]
        assert found, f"{name} has widgets but does not load {needed}"
        assert _local_target(path, found[0]).is_file()


@pytest.mark.parametrize("name", [n for n in TOC_PAGES if n.startswith("notebooks/")])
def test_notebook_pages_show_no_errors(site, name):
    path, page = _page(site, name)
    html = path.read_text(encoding="utf-8")
    source = json.loads((ROOT / f"{name}.ipynb").read_text())
    allowed = sum("raises-exception" in c.get("metadata", {}).get("tags", []) for c in source["cells"])
    errors = len(re.findall(r'class="[^"]*\boutput\s+traceback\b', html))
    assert errors == allowed, f"{name} shows {errors} error outputs, {allowed} expected"
    uses_model = any("load_model(" in "".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code")
    if uses_model:
        assert "Model: " in html, "the page loads a model but does not show which"


@pytest.mark.parametrize("name", [n for n in TOC_PAGES if n.startswith("notebooks/")])
def test_the_predicted_answer_waits_in_a_closed_toggle(site, name):
    """A predict-then-check cell shows its answer only when the reader opens a closed <details>."""
    path, _ = _page(site, name)
    html = path.read_text(encoding="utf-8")
    source = json.loads((ROOT / f"{name}.ipynb").read_text())
    asks = sum("check_prediction(prediction" in "".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code")
    toggles = re.findall(r'<details class="cam-book-answer"( open)?><summary>(.*?)</details>', html, re.S)
    assert len(toggles) == asks, f"{name}: {asks} prediction cells but {len(toggles)} answer toggles"
    assert not any(is_open for is_open, _ in toggles), f"{name}: an answer toggle is open"
    outside = re.sub(r'<details class="cam-book-answer">.*?</details>', "", html, flags=re.S)
    if asks:
        assert "The answer:</strong>" in html, f"{name}: the toggle holds no answer"
    assert "The answer:</strong>" not in outside, f"{name}: a predicted answer is shown outside its toggle"


@pytest.mark.parametrize("name", TOC_PAGES)
def test_the_network_is_named_near_the_top(site, name):
    """A page that shows a trained model's output names that network in prose within its first 2,500 characters."""
    path, page = _page(site, name)
    if not (ROOT / f"{name}.ipynb").is_file():
        return  # a Markdown page shows no model output
    source = json.loads((ROOT / f"{name}.ipynb").read_text())
    if not any("load_model(" in "".join(c["source"]) for c in source["cells"] if c["cell_type"] == "code"):
        return
    shown = re.search(r"Model: ([^(]+?) \(", path.read_text(encoding="utf-8"))
    assert shown, f"{name}: no 'Model:' line"
    text = re.sub(r"\s+", " ", " ".join(page.text))
    title = re.search(r"^# (.+)$", "".join(source["cells"][0]["source"]), re.M).group(1).strip()
    # The page's heading, followed by its permalink "#" (the title may also appear in the navigation above).
    start = text.find(title.replace("`", "") + " #")
    sentence = f"The figures and numbers on this page come from {shown.group(1)}"
    at = text.find(sentence, start)
    assert start >= 0 and at >= 0, f"{name}: the page does not say in prose that its figures come from {shown.group(1)}"
    assert at - start < 2500, f"{name}: the network is named {at - start} characters into the page; move it up"


@pytest.mark.parametrize("name", TOC_PAGES)
def test_no_unrendered_myst_roles(site, name):
    _, page = _page(site, name)
    text = " ".join(page.text)
    leftovers = re.findall(r"\{(?:eval|glue|glue:text|cite|cite:p|cite:t|doc|ref|eq|numref)\}`", text)
    assert not leftovers, f"{name} shows raw MyST roles: {leftovers[:5]}"


@pytest.mark.parametrize("name", TOC_PAGES)
def test_quoted_values_read_as_prose(site, name):
    """What an {eval} role put into a sentence is a value, not a NumPy repr, None or NaN."""
    page = site / f"{name}.html"
    values = re.findall(r'<span class="output text_plain">(.*?)</span>', page.read_text(encoding="utf-8"), re.S)
    bad = [v for v in values if CODE_LIKE_VALUE.search(v.strip())]
    assert not bad, f"{name} quotes values that read as code: {bad[:5]}"


# ----------------------------------------------------------------- alt text of figures
# myst-nb gives a notebook's output image the alt text of its cell's metadata
# {"mystnb": {"image": {"alt": ...}}}; without it the alt is the image's file name
# ("_images/<hash>.png"), which tells a screen-reader user nothing. A cell with
# {"mystnb": {"figure": {"caption": ...}}} is wrapped in a <figure> with a <figcaption>.
# tests/book/test_accessibility.py checks the metadata; this checks what was built.
# Images drawn by widgets from their saved state (the SecamExplorer, chapter 1's tabs)
# are created by JavaScript in the browser and are not <img> tags of the HTML.


class _Images(HTMLParser):
    """The <img> tags of a page, each with its alt and the caption of its <figure>."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images: list[dict] = []
        self._figures: list[list[str]] = []
        self._captions = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self._figures.append([])
        elif tag == "figcaption" and self._figures:
            self._captions += 1
        elif tag == "img":
            caption = self._figures[-1] if self._figures else None
            self.images.append({"src": attrs.get("src") or "", "alt": attrs.get("alt"), "caption": caption})

    def handle_endtag(self, tag):
        if tag == "figure" and self._figures:
            self._figures.pop()
        elif tag == "figcaption" and self._captions:
            self._captions -= 1

    def handle_data(self, data):
        if self._captions and self._figures:
            self._figures[-1].append(data)


def _caption_text(parts) -> str:
    # Sphinx adds "Fig. 3 " before the caption and a "#" link after it.
    text = " ".join("".join(parts or []).split())
    return re.sub(r"^(Fig\.|Figure)\s*[\d.]+\s*", "", text).replace("#", "").strip()


def _alt_problem(image) -> str | None:
    """Why an <img> is not described, or None if its alt text or figure caption describes it."""
    alt = (image["alt"] or "").strip()
    name = urlparse(image["src"]).path.rsplit("/", 1)[-1]
    file_like = bool(re.search(r"\.(png|jpe?g|svg|gif|webp)$", alt, re.I)) or "_images/" in alt or (name and alt == name)
    if alt and not file_like:
        return None
    if _caption_text(image["caption"]):
        return None
    return f"{image['src']}: alt {alt!r}" if alt else f"{image['src']}: no alt"


def _images(path: Path) -> list[dict]:
    parser = _Images()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.images


def _content_images(path: Path) -> list[dict]:
    """The page's pictures, without the theme's icons (files under _static/, e.g. the launch buttons' logos)."""
    content = []
    for image in _images(path):
        parsed = urlparse(image["src"])
        if parsed.scheme != "data":
            target = _local_target(path, image["src"])
            if target.is_relative_to(SITE) and target.relative_to(SITE).parts[:1] == ("_static",):
                continue
        content.append(image)
    return content


@pytest.mark.parametrize("name", TOC_PAGES)
def test_every_image_has_alt_text_or_a_caption(site, name):
    # Every <img> of every page, the theme's icons included; whether a page has
    # figures at all is test_page_shows_the_expected_math_widgets_and_figures's.
    images = _images(site / f"{name}.html")
    undescribed = [p for p in map(_alt_problem, images) if p]
    assert not undescribed, (
        f"{name}: images without a description (give the notebook cell "
        '{"mystnb": {"image": {"alt": "..."}}}):\n' + "\n".join(undescribed)
    )



DIAGRAM_PAGES = ["notebooks/02_inside_resnet50", "notebooks/03_cam", "notebooks/04_slic", "notebooks/05_secam"]


@pytest.mark.parametrize("name", DIAGRAM_PAGES)
def test_the_diagrams_are_on_their_pages(site, name):
    """The diagrams drawn by code (tests/book/test_chapter_parts.py) reach the website as pictures described as diagrams."""
    diagrams = [i for i in _content_images(site / f"{name}.html") if (i["alt"] or "").startswith("Diagram:")]
    assert diagrams, f"{name}: no image whose alt text begins with 'Diagram:'"


def test_the_site_serves_the_network_for_the_photo_box(site):
    """The photo box (notebooks/05b_your_photo) fetches these files from the site itself (book/_ext/browser_model.py copies them)."""
    import hashlib

    page = (site / "notebooks" / "05b_your_photo.html").read_text(encoding="utf-8")
    assert page.count('class="cam-photo-explorer"') == 1, "the page 05b_your_photo has no photo box"
    model = site / "_static" / "model"
    meta = json.loads((model / "cam-model.json").read_text())
    onnx = model / meta["files"]["model"]["name"]
    assert onnx.stat().st_size == meta["files"]["model"]["bytes"] <= 30e6
    assert hashlib.sha256(onnx.read_bytes()).hexdigest() == meta["files"]["model"]["sha256"]
    head = model / meta["files"]["head"]["name"]
    assert head.stat().st_size == 4 * (meta["classes"] * meta["channels"] + meta["classes"])
    assert len(meta["categories"]) == meta["classes"] and meta["outputs"] == ["feature_maps", "logits"]
    runtime = site / "_static" / "vendor" / "onnxruntime-web"
    assert sorted(p.name for p in runtime.iterdir()) == [
        "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm", "ort.wasm.min.js"]
    for script in ("cam-explorer.js", "cam-slic.js", "cam-photo.js"):
        assert f"_static/{script}" in page, f"05b_your_photo does not load {script}"
