"""The built website in a real browser: headless Debian Chromium over _build/html.

One browser visits every page of _toc.yml once (a module-scoped fixture) and
records what it saw; the tests below then judge each page:

- it loads with no console error and no uncaught exception;
- MathJax typeset every equation: no raw TeX is left and MathJax reported no error;
- every image loaded (and says what it shows: alt text or a caption);
- embedded widget state rendered into live widgets;
- the pages that tests/book_layout.py says show math, figures or widgets do show them;
- no internal link is broken (target page and #anchor exist);
- no request left localhost (every such request is blocked and recorded);
- the search page finds chapters.

Screenshots of a few pages go to test-artifacts/screenshots/ (override with
CAM_BOOK_ARTIFACTS), which git ignores. `make test` builds the book first; on
its own, run `make book` and then `pytest tests/browser`. Without Chromium these
tests fail (see conftest.py); CAM_BOOK_SKIP_BROWSER=1 skips them on a machine that
cannot run it.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest
from book_layout import FIGURES, MATH, PAGE_FEATURES, ROOT, SITE, WIDGETS, pages_with, toc_files

from browser_support import CHROMIUM_ARGS, chromium_path, missing, press_keys, redraw_after

ARTIFACTS = Path(os.environ.get("CAM_BOOK_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
TOC_PAGES = toc_files()
# Pages worth a picture: the landing page, an equation-heavy chapter, the widget
# chapter, the cheat sheet and the search results.
SCREENSHOTS = {"book/intro", "notebooks/03_cam", "notebooks/05_secam", "book/cheatsheet"}
PAGE_TIMEOUT_MS = 60_000

# Runs in the page after load: waits for MathJax and the widget manager, then
# reports what the page shows.
INSPECT = r"""
async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
    if (MathJax.typesetPromise) { await MathJax.typesetPromise(); }
  }
  const views = document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]');
  const rendered = () => [...views].filter(s => {
    const box = s.parentElement;
    return box && box.querySelector('.jupyter-widgets, .widget-box, .lm-Widget, .p-Widget');
  }).length;
  for (let i = 0; i < 150 && rendered() < views.length; i++) { await sleep(100); }
  const images = [...document.images];
  for (const img of images) { img.loading = 'eager'; }
  await Promise.all(images.map(img => img.decode().catch(() => null)));
  // Text a reader sees, without code, scripts and typeset math.
  const body = document.querySelector('main') || document.body;
  const clone = body.cloneNode(true);
  clone.querySelectorAll('pre, code, script, style, mjx-container, .highlight, textarea').forEach(n => n.remove());
  const maths = [...document.querySelectorAll('.math')];
  return {
    title: document.title,
    math_total: maths.length,
    math_typeset: maths.filter(m => m.querySelector('mjx-container') || m.tagName === 'MJX-CONTAINER').length,
    math_errors: document.querySelectorAll('mjx-merror, [data-mjx-error]').length,
    text: clone.innerText,
    images: images.map(img => ({
      src: img.getAttribute('src') || '',
      ok: img.complete && img.naturalWidth > 0,
      alt: (img.getAttribute('alt') || '').trim(),
      caption: (img.closest('figure') && img.closest('figure').querySelector('figcaption'))
               ? img.closest('figure').querySelector('figcaption').innerText.trim() : '',
    })),
    widget_views: views.length,
    widgets_rendered: rendered(),
    widget_errors: document.querySelectorAll('.jupyter-widgets-error-widget, .jupyter-widget-error').length,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  };
}
"""

# TeX that MathJax should have turned into math: delimiters and common commands.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{|\\frac\{|\\sum_|\\mathrm\{|\\alpha\b|\\text\{")


@dataclass
class Visit:
    url: str
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    offsite: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    report: dict = field(default_factory=dict)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (SITE / "index.html").is_file():
        pytest.fail("_build/html/index.html is missing: build the book first (make book)")
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser_context(server):
    if missing() is not None:
        # No browser to start: conftest.py fails every test of this file, saying what is missing.
        yield None
        return
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="cam-book-chromium-") as profile, sync_playwright() as p:
        # A fresh, empty profile each run.
        context = p.chromium.launch_persistent_context(
            profile,
            executable_path=chromium_path(),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        yield context
        context.close()


def _is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost")


def _visit(context, url: str, screenshot: Path | None = None) -> Visit:
    visit = Visit(url)
    page = context.new_page()

    def route(r):
        if _is_local(r.request.url):
            r.continue_()
        else:
            visit.offsite.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.on("console", lambda m: visit.console_errors.append(f"{m.text} ({m.location.get('url', '')})") if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.page_errors.append(str(e)))
    page.on("requestfailed", lambda r: visit.failed.append(f"{r.url}: {r.failure}") if _is_local(r.url) else None)
    page.on("response", lambda r: visit.failed.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
    page.goto(url, wait_until="load")
    visit.report = page.evaluate(INSPECT)
    if screenshot is not None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot), full_page=False)
    page.close()
    return visit


@pytest.fixture(scope="module")
def visits(server, browser_context):
    """Every toc page, visited once."""
    if browser_context is None:
        return {}
    out = {}
    for name in TOC_PAGES:
        shot = ARTIFACTS / f"{name.replace('/', '_')}.png" if name in SCREENSHOTS else None
        out[name] = _visit(browser_context, f"{server}/{name}.html", shot)
    return out


@pytest.mark.parametrize("name", TOC_PAGES)
def test_page_loads_without_console_errors(visits, name):
    v = visits[name]
    assert not v.page_errors, f"{name}: uncaught exceptions: {v.page_errors}"
    assert not v.console_errors, f"{name}: console errors: {v.console_errors}"
    assert not v.failed, f"{name}: requests that failed: {v.failed}"


@pytest.mark.parametrize("name", TOC_PAGES)
def test_no_request_leaves_localhost(visits, name):
    assert not visits[name].offsite, f"{name} tried to reach other hosts: {visits[name].offsite}"


@pytest.mark.parametrize("name", TOC_PAGES)
def test_mathjax_typesets_every_equation(visits, name):
    r = visits[name].report
    if MATH in PAGE_FEATURES.get(name, ()):
        assert r["math_total"] > 0, f"{name} must show math (tests/book_layout.py) but the browser finds no equation"
    assert r["math_typeset"] == r["math_total"], f"{name}: {r['math_total'] - r['math_typeset']} of {r['math_total']} equations not typeset"
    assert r["math_errors"] == 0, f"{name}: MathJax reports {r['math_errors']} errors"
    raw = sorted({m.group(0) for m in RAW_TEX.finditer(r["text"])})
    assert not raw, f"{name} shows raw TeX: {raw}"


def _is_theme_icon(src: str) -> bool:
    return "/_static/" in urlparse(src).path or urlparse(src).path.startswith("_static/")


@pytest.mark.parametrize("name", TOC_PAGES)
def test_every_image_loads_and_says_what_it_shows(visits, name):
    images = visits[name].report["images"]
    if FIGURES in PAGE_FEATURES.get(name, ()):
        figures = [i for i in images if not _is_theme_icon(i["src"])]
        assert figures, f"{name} must show figures (tests/book_layout.py) but the browser finds none"
    broken = [i["src"][:80] for i in images if not i["ok"]]
    assert not broken, f"{name}: images that did not load: {broken}"
    mute = [i["src"][:80] for i in images if not (i["caption"] or (i["alt"] and not re.search(r"\.(png|jpe?g|svg|gif)$|/", i["alt"])))]
    assert not mute, f"{name}: images with neither alt text nor caption: {mute}"


@pytest.mark.parametrize("name", pages_with(WIDGETS))
def test_embedded_widgets_render(visits, name):
    r = visits[name].report
    assert r["widget_views"], f"{name} must embed widgets (tests/book_layout.py) but has no widget view: widget embedding broke"
    assert r["widgets_rendered"] == r["widget_views"], f"{name}: {r['widgets_rendered']} of {r['widget_views']} widgets rendered"
    assert r["widget_errors"] == 0, f"{name}: the widget manager shows {r['widget_errors']} error widgets"


@functools.lru_cache(maxsize=None)
def _ids(path: Path) -> frozenset[str]:
    html = path.read_text(encoding="utf-8")
    return frozenset(re.findall(r'\bid="([^"]+)"', html)) | frozenset(re.findall(r'\bname="([^"]+)"', html))


def test_no_internal_link_is_broken(visits, server):
    broken = []
    for name, v in visits.items():
        for href in v.report["links"]:
            if not href.startswith(server):
                continue
            target, fragment = urldefrag(href)
            path = SITE / unquote(urlparse(target).path).lstrip("/")
            if path.is_dir():
                path = path / "index.html"
            if not path.is_file():
                broken.append(f"{name}: {href} (no such page)")
            elif fragment and path.suffix == ".html" and unquote(fragment) not in _ids(path):
                broken.append(f"{name}: {href} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(sorted(set(broken)))


@pytest.mark.parametrize("query, expected", [("superpixel", "notebooks/04_slic"), ("HiResCAM", "notebooks/06_grad_cam")])
def test_search_finds_the_chapters(browser_context, server, query, expected):
    page = browser_context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{server}/search.html?q={query}", wait_until="load")
    # Sphinx shows the hits one by one (a timer per hit) and says "Search finished" after the
    # last: reading the list at the first hit would see only the best-ranked few.
    page.wait_for_function("() => /did not match|Search finished/.test(document.body.innerText)",
                           timeout=PAGE_TIMEOUT_MS)
    hits = page.eval_on_selector_all("#search-results li a", "as => as.map(a => a.href)")
    if query == "superpixel":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "search.png"))
    page.close()
    assert not errors, errors
    assert any(expected in h for h in hits), f"searching {query!r} did not find {expected}: {hits[:10]}"


# The chapter-05 explorer of the website (book_tools/web_explorer.py, book/_static/cam-explorer.js):
# each of its live controls, moved as a reader moves it, must redraw the picture.
EXPLORER_PAGE = "notebooks/05_secam"
EXPLORER_MAX_BYTES = 3_000_000


def _explorer_canvas(page) -> str:
    return page.evaluate("document.querySelector('.cam-web-explorer canvas').toDataURL('image/png')")


def test_the_website_explorer_responds_to_every_live_control(browser_context, server):
    page_file = SITE / f"{EXPLORER_PAGE}.html"
    weight = page_file.stat().st_size
    assert weight < EXPLORER_MAX_BYTES, f"{EXPLORER_PAGE}.html weighs {weight:,} bytes (limit {EXPLORER_MAX_BYTES:,})"
    # The hidden ipywidgets explorer's saved state is dropped (book/_ext/widget_state.py).
    assert "widget-state+json" not in page_file.read_text(encoding="utf-8"), \
        f"{EXPLORER_PAGE}.html still embeds the state of widgets it does not show"
    page = browser_context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server}/{EXPLORER_PAGE}.html", wait_until="load")
    assert page.locator(".cam-web-explorer").count() == 1, "chapter 05's page has no website explorer"
    page.wait_for_selector(".cam-web-explorer[data-ready]", timeout=PAGE_TIMEOUT_MS)
    assert page.locator(".jupyter-widgets .widget-slider").count() == 0, \
        "chapter 05's page still shows the ipywidgets explorer, whose controls cannot respond without a kernel"
    explorer = page.locator(".cam-web-explorer")
    explorer.scroll_into_view_if_needed()

    def keys(selector, presses):
        return lambda: press_keys(page, selector, "ArrowRight", presses)

    steps = [
        ("threshold", keys(".cam-web-explorer [id$='-threshold']", 6)),
        ("opacity", keys(".cam-web-explorer [id$='-alpha']", 4)),
        ("superpixel setting", lambda: page.select_option(".cam-web-explorer [id$='-superpixels']", index=3)),
        ("class", lambda: page.select_option(".cam-web-explorer [id$='-class']", index=1)),
        ("method", lambda: page.check(".cam-web-explorer input[type=radio][value=CAM]")),
        ("image", lambda: page.select_option(".cam-web-explorer [id$='-image']", index=2)),
    ]
    unchanged = []
    for name, action in steps:
        before = _explorer_canvas(page)
        redraw_after(page, action)
        if _explorer_canvas(page) == before:
            unchanged.append(name)
        if name == "threshold":
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            explorer.screenshot(path=str(ARTIFACTS / "05_web_explorer_threshold.png"))
    page.close()
    assert not unchanged, f"moving these controls did not change the explorer's picture: {unchanged}"
    assert not errors, errors
