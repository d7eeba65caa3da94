"""How fast the website explains a reader's photo: CAM and SeCAM in Chromium, from the chosen file to the drawn map.

The page "Explain your own photo" (notebooks/05b_your_photo) box (``book/_static/cam-photo.js``) runs the
book's network in the browser with onnxruntime-web. This module drives that box in
headless Chromium over the built site (``make book`` first) and reads the page's own
timings — ``performance.now()`` from the file input's ``change`` event to the CAM and
to the SeCAM canvas drawn (decoding, preprocessing, the forward pass, SLIC, drawing)::

    python -m benchmarks.browser                                      # print the times
    python -m benchmarks.browser --save benchmarks/results/full.json  # add them to the recorded report

It loads the network once (``browser_load_ms``: fetching and starting it), then
chooses each sample photo (written as PNG) ``repeats`` times; ``browser_cam_ms`` and
``browser_secam_ms`` are the medians over all of them. ``tests/browser/test_photo_page.py``
uses the same functions, and writes what it measured to ``test-artifacts/``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator, Sequence
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
#: The chapter page that holds the box.
PAGE = "notebooks/05b_your_photo.html"
#: The photos chosen through the file input.
IMAGES = ("chelsea", "coffee", "astronaut", "rocket")
#: The keys this benchmark adds to ``report["results"]``.
BROWSER_KEYS = ("browser_cam_ms", "browser_secam_ms")
#: The issue's targets on two cores with the fallback network, in ms.
TARGETS_MS = {"browser_cam_ms": 1000.0, "browser_secam_ms": 2000.0}
#: Headless, and nothing that calls home (tests/browser/browser_support.py launches every browser test with these).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 120_000


def chromium_path() -> str | None:
    """The Chromium binary: $CAM_BOOK_CHROMIUM, else chromium on PATH."""
    return os.environ.get("CAM_BOOK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(folder: Path = SITE) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) and yield its address."""
    if not (Path(folder) / "index.html").is_file():
        raise FileNotFoundError(f"{folder}/index.html is missing: build the book first (make book)")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()


def is_local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname in ("127.0.0.1", "localhost")


class PhotoPage:
    """The photo page open in a Playwright page, with what it logged, requested and downloaded."""

    def __init__(self, context, url: str) -> None:
        self.page = context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.offsite: list[str] = []
        self.responses: list[tuple[str, int]] = []  # (url, bytes) of everything the page fetched
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("response", self._record)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_selector(".cam-photo-explorer[data-state]")
        self.box = ".cam-photo-explorer"

    def _route(self, route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            self.offsite.append(route.request.url)
            route.abort()

    def _record(self, response) -> None:
        size = response.headers.get("content-length")
        self.responses.append((response.url, int(size) if size and size.isdigit() else 0))

    def state(self) -> str:
        return self.page.get_attribute(self.box, "data-state")

    def load_network(self) -> float:
        """Click "Load the network" and wait until it is ready; the page's load time in ms."""
        self.page.click(f"{self.box} .cam-photo-load")
        self.page.wait_for_function(f"['ready', 'error'].includes(document.querySelector('{self.box}').dataset.state)")
        if self.state() != "ready":
            raise RuntimeError(f"the network did not load: {self.page.inner_text(self.box + ' .cam-photo-status')}")
        return float(self.page.get_attribute(self.box, "data-load-ms"))

    def explain(self, path: Path) -> dict:
        """Choose ``path`` in the file input; wait until both maps are drawn or an error is shown."""
        self.page.set_input_files(f"{self.box} input[type=file]", str(path))
        self.page.wait_for_function(f"['drawn', 'error'].includes(document.querySelector('{self.box}').dataset.state)")
        out = {"state": self.state(), "status": self.page.inner_text(f"{self.box} .cam-photo-status")}
        if out["state"] == "drawn":
            out["cam_ms"] = float(self.page.get_attribute(self.box, "data-cam-ms"))
            out["secam_ms"] = float(self.page.get_attribute(self.box, "data-secam-ms"))
            out["shown"] = self.page.evaluate(f"document.querySelector('{self.box}').camPhoto.shown()")
        return out

    def bytes(self, what: str) -> bytes:
        """What the page holds of the photo shown: ``input``, ``display``, ``labels`` or ``feature_maps``."""
        import base64

        return base64.b64decode(self.page.evaluate(
            f"(what) => document.querySelector('{self.box}').camPhoto.bytes(what)", what))


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium context with a fresh profile (Playwright; Debian's Chromium)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    if executable is None:
        raise FileNotFoundError("Chromium is not installed (Debian: apt-get install chromium; `make browser`)")
    with tempfile.TemporaryDirectory(prefix="cam-book-chromium-") as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(profile, executable_path=executable, headless=True,
                                                       args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900})
        try:
            yield context
        finally:
            context.close()


def write_photos(folder: Path, names: Sequence[str] = IMAGES) -> list[Path]:
    """The sample photos as PNG files in ``folder`` (the pixels ``load_image`` returns)."""
    from PIL import Image

    from tutorial_utils import load_image

    paths = []
    for name in names:
        path = Path(folder) / f"{name}.png"
        Image.fromarray(load_image(name)).save(path)
        paths.append(path)
    return paths


def measure(page: PhotoPage, photos: Sequence[Path], repeats: int = 3) -> dict:
    """Load the network, explain each photo ``repeats`` times; the medians and every time."""
    load_ms = page.load_network()
    cam, secam = [], []
    for _ in range(repeats):
        for photo in photos:
            result = page.explain(photo)
            if result["state"] != "drawn":
                raise RuntimeError(f"{photo.name}: {result['status']}")
            cam.append(result["cam_ms"])
            secam.append(result["secam_ms"])
    return {"browser_cam_ms": statistics.median(cam), "browser_secam_ms": statistics.median(secam),
            "browser_load_ms": load_ms, "cam_ms_each": cam, "secam_ms_each": secam,
            "photos": [p.stem for p in photos], "repeats": repeats}


def record(report_path: Path, measured: dict, about: dict) -> dict:
    """Add the two results to a saved report (``benchmarks/results/full.json``), and ``browser``: how they were measured."""
    report = json.loads(Path(report_path).read_text())
    results = {k: v for k, v in report["results"].items() if k not in BROWSER_KEYS}
    report["results"] = {**results, **{k: measured[k] for k in BROWSER_KEYS}}
    report["browser"] = {**about, **{k: v for k, v in measured.items() if k not in BROWSER_KEYS}}
    Path(report_path).write_text(json.dumps(report, indent=2) + "\n")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.browser", description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="uploads of each photo (default 3)")
    parser.add_argument("--save", type=Path, metavar="PATH", help="add the results to this saved report")
    parser.add_argument("--site", type=Path, default=SITE, metavar="FOLDER",
                        help="the built website to serve (default _build/html)")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("argument --repeats: must be at least 1")
    if args.save is not None and not args.save.is_file():
        parser.error(f"argument --save: {str(args.save)!r} is not a saved report (python -m benchmarks.run --save)")
    with tempfile.TemporaryDirectory() as folder, serve(args.site) as url, chromium() as context:
        page = PhotoPage(context, f"{url}/{PAGE}")
        measured = measure(page, write_photos(Path(folder)), args.repeats)
        about = {"chromium": context.browser.version if context.browser else "", "model": page.page.evaluate(
            "fetch('../_static/model/cam-model.json').then(r => r.json()).then(m => m.display_name)"),
            "logical_cores": os.cpu_count()}
        if page.offsite or page.errors:
            raise RuntimeError(f"the page reached other hosts {page.offsite} or logged errors {page.errors}")
    if args.save is not None:
        record(args.save, measured, about)
        print(f"results added to {args.save}", file=sys.stderr)
    print(json.dumps({**{k: measured[k] for k in BROWSER_KEYS}, "browser_load_ms": measured["browser_load_ms"],
                      **about}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
