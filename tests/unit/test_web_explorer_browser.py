"""The website's explorer in Chromium: cam-explorer.js draws what SecamExplorer.render draws, and every control redraws.

A standalone page (``WebExplorer.standalone_page``: the output of
``explorer.web_version()``, book/_static/cam-explorer.js and the site's book.css) is written to a
temporary folder and opened over file:// in headless Debian Chromium, as
tests/browser does it. The test reads the canvas back and compares it with
``render`` for the same settings:

- on the page's own photo (the JPEG, decoded by Pillow: Chromium decodes it to
  the same pixels), the page's arithmetic is render's: where this was written
  the two are equal pixel for pixel; the bounds leave room for another CPU
  rounding torch's float32 products differently in the last bit (a pixel one
  step over in the colour table, at most 5 levels; or a pixel within rounding
  of the threshold, dimmed on one side and not on the other);
- on the explorer's original photo, they differ by the JPEG's error: within 1
  level on average at opacity 0.5 or more.

Without Chromium or Playwright the test fails, saying what is missing (like tests/browser);
CAM_BOOK_SKIP_BROWSER=1 skips it. A screenshot after moving the threshold goes to
test-artifacts/screenshots/web_explorer.png (override with CAM_BOOK_ARTIFACTS).
"""

from __future__ import annotations

import base64
import contextlib
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from book_layout import ROOT
from PIL import Image

from browser.browser_support import CHROMIUM_ARGS, chromium_path, missing, opted_out, press_keys, redraw_after
from book_tools import SecamExplorer

SCRIPT = ROOT / "book" / "_static" / "cam-explorer.js"
STYLES = ROOT / "book" / "_static" / "book.css"
ARTIFACTS = Path(os.environ.get("CAM_BOOK_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
#: The flags of tests/browser/test_browser.py: headless, and nothing that calls home.
#: Levels a pixel may differ from render on the page's own photo: one step of the colour table at full opacity.
MAX_LEVELS = 5
TIMEOUT_MS = 20_000


def _why_not() -> str | None:
    if opted_out():
        return "CAM_BOOK_SKIP_BROWSER opts out of the browser tests"
    return None


@pytest.fixture(scope="module")
def explorer(lite):
    return SecamExplorer(lite, images=("coffee", "chelsea", "astronaut", "rocket"))


@pytest.fixture(scope="module")
def web(explorer):
    return explorer.web_version()


@pytest.fixture(scope="module")
def session(web, tmp_path_factory):
    """The standalone page open in Chromium, drawn once; with what it logged and requested."""
    reason = _why_not()
    if reason is not None:
        pytest.skip(f"no browser: {reason}")
    problem = missing()
    if problem is not None:  # required, like tests/browser: fail and say what is missing
        pytest.fail(f"BROWSER TEST CANNOT RUN: {problem}", pytrace=False)
    from playwright.sync_api import sync_playwright

    folder = tmp_path_factory.mktemp("web_explorer")
    shutil.copy(SCRIPT, folder / SCRIPT.name)
    shutil.copy(STYLES, folder / STYLES.name)
    (folder / "explorer.html").write_text(web.standalone_page(SCRIPT.name, STYLES.name), encoding="utf-8")
    problems, offsite = [], []

    def route(r):
        if r.request.url.split(":", 1)[0] in ("file", "data", "blob"):
            r.continue_()
        else:
            offsite.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 820, "height": 900})
        page.set_default_timeout(TIMEOUT_MS)
        page.route("**/*", route)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto((folder / "explorer.html").as_uri())
        page.wait_for_selector(".cam-web-explorer[data-ready]")
        yield {"page": page, "problems": problems, "offsite": offsite}
        browser.close()


def _canvas(page) -> np.ndarray:
    url = page.evaluate("document.querySelector('.cam-web-explorer canvas').toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB"))


def _set_range(page, which: str, value: float) -> None:
    redraw_after(page, lambda: page.evaluate(
        "([sel, v]) => { const r = document.querySelector(sel); r.value = v; r.dispatchEvent(new Event('input')); }",
        [f".cam-web-explorer [id$='-{which}']", str(value)]))


def _choose(page, image: str, method: str) -> None:
    """Show ``image`` with ``method`` (a control set to its own value would not redraw: skip it)."""
    if _state(page)["image"] != image:
        redraw_after(page, lambda: page.select_option(".cam-web-explorer [id$='-image']", image))
    if _state(page)["method"] != method:
        redraw_after(page, lambda: page.check(f".cam-web-explorer input[type=radio][value={method}]"))


def _state(page) -> dict:
    """The settings the page shows, as render takes them."""
    return page.evaluate("""() => {
        const c = document.querySelector('.cam-web-explorer');
        const get = (name) => c.querySelector(`[id$='-${name}']`);
        return {image: get('image').value, class_position: Number(get('class').value),
                setting: Number(get('superpixels').value), method: c.dataset.method,
                threshold: Number(get('threshold').value), alpha: Number(get('alpha').value)};
    }""")


@contextlib.contextmanager
def _the_pages_photos(explorer, web):
    """Let render draw on the page's photos (the JPEGs as Pillow decodes them), then restore the explorer."""
    saved = dict(explorer._forward)
    for image in web.data["images"]:
        photo = np.asarray(Image.open(io.BytesIO(base64.b64decode(image["jpeg"]))).convert("RGB"))
        _, feature_maps, top = explorer._forward[image["name"]]
        explorer._forward[image["name"]] = (photo, feature_maps, top)
    try:
        yield
    finally:
        explorer._forward.update(saved)


def _render(explorer, web, state: dict) -> np.ndarray:
    image = next(one for one in web.data["images"] if one["name"] == state["image"])
    setting = image["segmentations"][state["setting"]]
    return explorer.render(image=state["image"], class_index=image["classes"][state["class_position"]]["index"],
                           method=state["method"], n_segments=setting["n_segments"],
                           compactness=setting["compactness"], threshold=state["threshold"], alpha=state["alpha"])


@pytest.mark.parametrize("method", ["CAM", "SeCAM"])
def test_the_canvas_is_what_render_draws(session, explorer, web, method):
    page = session["page"]
    cases = [(0.0, 0.5, 1, "chelsea", 0), (0.5, 0.8, 3, "coffee", 1), (0.25, 1.0, 0, "rocket", 2)]
    for threshold, alpha, setting, image, class_position in cases:
        _choose(page, image, method)
        redraw_after(page, lambda: page.select_option(".cam-web-explorer [id$='-class']", str(class_position)))
        redraw_after(page, lambda: page.select_option(".cam-web-explorer [id$='-superpixels']", str(setting)))
        _set_range(page, "threshold", threshold)
        _set_range(page, "alpha", alpha)
        state = _state(page)
        assert (state["method"], state["threshold"], state["alpha"]) == (method, threshold, alpha)
        shown = _canvas(page).astype(int)
        with _the_pages_photos(explorer, web):
            exact = np.abs(shown - _render(explorer, web, state)).max(axis=2)
        # Pixels within float32 rounding of the threshold may fall either side of it on another CPU.
        values = explorer.values()
        edge = np.abs(values - np.float32(threshold) * values.max()) <= 1e-5 * abs(values.max()) if threshold else False
        assert exact.mean() <= 0.05 and np.where(edge, 0, exact).max() <= MAX_LEVELS, (state, exact.mean(), exact.max())
        on_original = np.abs(shown - _render(explorer, web, state))
        assert on_original.mean() <= 1.0, (state, on_original.mean())  # the JPEG's error, blended
    assert not session["problems"] and not session["offsite"], (session["problems"], session["offsite"])


def test_every_control_redraws(session):
    page = session["page"]
    _choose(page, "coffee", "SeCAM")
    _set_range(page, "threshold", 0.0)
    _set_range(page, "alpha", 0.5)
    redraw_after(page, lambda: page.select_option(".cam-web-explorer [id$='-superpixels']", "1"))
    redraw_after(page, lambda: page.select_option(".cam-web-explorer [id$='-class']", "0"))
    text = page.inner_text(".cam-web-explorer")
    for words in ("image", "class", "method", "threshold", "opacity", "n_segments 50, 100, 200 and 400",
                  "JupyterLab"):
        assert words in text, f"the page's text does not mention {words!r}:\n{text}"

    def key(selector, presses):
        return lambda: press_keys(page, selector, "ArrowRight", presses)

    steps = [
        ("threshold", key(".cam-web-explorer [id$='-threshold']", 6)),  # by keyboard, as a reader would: 0 → 0.30
        ("opacity", key(".cam-web-explorer [id$='-alpha']", 4)),  # 0.50 → 0.70
        ("superpixel setting", lambda: page.select_option(".cam-web-explorer [id$='-superpixels']", "3")),
        ("class", lambda: page.select_option(".cam-web-explorer [id$='-class']", "1")),
        ("method", lambda: page.check(".cam-web-explorer input[type=radio][value=CAM]")),
        ("image", lambda: page.select_option(".cam-web-explorer [id$='-image']", "astronaut")),
    ]
    for name, action in steps:
        before, label = _canvas(page), page.get_attribute(".cam-web-explorer canvas", "aria-label")
        redraw_after(page, action)
        after = _canvas(page)
        assert before.shape != after.shape or np.abs(before.astype(int) - after).mean() > 0.5, f"{name}: canvas unchanged"
        assert page.get_attribute(".cam-web-explorer canvas", "aria-label") != label, f"{name}: aria-label unchanged"
        if name == "threshold":
            assert page.inner_text(".cam-web-explorer output[for$='-threshold']") == "0.30"
            assert "values at or below 0.30 of the maximum are dimmed" in page.get_attribute(
                ".cam-web-explorer canvas", "aria-label")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.locator(".cam-web-explorer").screenshot(path=str(ARTIFACTS / "web_explorer.png"))
    assert not session["problems"] and not session["offsite"], (session["problems"], session["offsite"])
