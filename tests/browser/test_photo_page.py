"""The page "Explain your own photo" (notebooks/05b_your_photo) in headless Chromium, over the built site.

The box (book/_static/cam-photo.js) runs the book's network in the browser with
onnxruntime-web, on a file the reader chooses. Driven through its file input, as a
reader uses it (benchmarks/browser.py holds the driving code, which the benchmark shares):

- before the reader asks, the page fetches neither the network nor onnxruntime-web, and
  all it fetched weighs under 3 MB; "Load the network" shows a progress bar that counts
  the whole download;
- for each sample photo, uploaded as a PNG file:
  - the network's input that the page made is CamModel.preprocess's, within one level
    per pixel (the resize's rounding: torch's uint8 path and Pillow's, which the page
    follows, may round a pixel differently);
  - its top 5 classes are PyTorch's on the page's own input, in the same order; and PyTorch's
    for the photo as Python preprocesses it, where swaps are allowed only between classes
    whose logits lie closer than the one-level input difference moves them (or LOGIT_TIE);
  - the CAM canvas is SecamExplorer.render's CAM for the page's own input and photo, within the
    website explorer's tolerance (tests/unit/test_web_explorer_browser.py: mean difference
    at most 0.05 levels, no pixel more than 5 levels off);
  - the SeCAM canvas is render's SeCAM over the page's own superpixels, within the same
    tolerance, and those superpixels are slic_from_scratch's on the photo (label agreement);
- a file that is not an image gets a clear message on the page, and no console error;
- no request leaves localhost, and nothing is logged as an error.

The times from choosing the file to the drawn CAM and SeCAM (the page's own
performance.now() readings; medians over the uploads) go to
test-artifacts/browser-benchmark.json as browser_cam_ms and browser_secam_ms, and must
meet the issue's targets (1 s and 2 s on two cores for the fallback network).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from book_layout import ROOT, SITE

from benchmarks.browser import BROWSER_KEYS, PAGE, TARGETS_MS, PhotoPage, chromium, measure, serve, write_photos
from book_tools import SecamExplorer
from tutorial_utils import load_image, load_model, slic_from_scratch

ARTIFACTS = Path(os.environ.get("CAM_BOOK_ARTIFACTS", ROOT / "test-artifacts"))
#: The page's weight before the reader asks for the network.
PAGE_MAX_BYTES = 3_000_000
#: Levels a canvas pixel may differ from render's (the website explorer's tolerance).
MAX_LEVELS, MEAN_LEVELS = 5, 0.05
#: Logits closer than this (relative to the largest) may swap places in the top 5.
LOGIT_TIE = 1e-3
#: Share of pixels whose superpixel label equals slic_from_scratch's.
LABEL_AGREEMENT = 0.99


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    """The photo page in Chromium: the page before and after loading the network, and the timed uploads."""
    folder = tmp_path_factory.mktemp("photos")
    photos = write_photos(folder)
    with serve(SITE) as url, chromium() as context:
        page = PhotoPage(context, f"{url}/{PAGE}")
        page.page.wait_for_load_state("networkidle")
        before = list(page.responses)
        page.page.evaluate("""() => {
            const bar = document.querySelector('.cam-photo-explorer progress');
            window.__progress = [];
            new MutationObserver(() => window.__progress.push([bar.value, bar.max, bar.hidden]))
              .observe(bar, {attributes: true});
        }""")
        measured = measure(page, photos, repeats=2)
        progress = page.page.evaluate("window.__progress")
        yield {"page": page, "before": before, "progress": progress, "measured": measured, "photos": photos,
               "folder": folder}


@pytest.fixture(scope="module")
def model():
    return load_model(verbose=False)


def test_nothing_heavy_loads_before_the_reader_asks(session):
    before = session["before"]
    heavy = [u for u, _ in before if "/model/" in u or "onnxruntime-web" in u]
    assert not heavy, f"the page fetched the network or its runtime before the reader asked: {heavy}"
    weight = sum(size for _, size in before)
    assert 0 < weight < PAGE_MAX_BYTES, f"the photo page weighs {weight:,} bytes before the network loads"
    after = [u for u, _ in session["page"].responses]
    assert any(u.endswith("cam-model.onnx") for u in after) and any(u.endswith(".wasm") for u in after)


def test_the_progress_bar_counts_the_download(session):
    values = [(v, m) for v, m, hidden in session["progress"] if not hidden]
    assert len({v for v, _ in values}) >= 3, f"the progress bar moved only through {values}"
    total = values[-1][1]
    size = sum(p.stat().st_size for p in (SITE / "_static" / "model").glob("cam-*.*") if p.suffix != ".json")
    assert total > size and values[-1][0] == total, (values[-1], size)  # the network, its head and the runtime


def _canvas(page, method: str) -> np.ndarray:
    import base64
    import io

    from PIL import Image

    url = page.page.evaluate(f"document.querySelector('.cam-photo-canvas[data-method={method}]').toDataURL()")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB")).astype(int)


def _page_photo(page, shown) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The network's input (H×W×3), the photo as drawn (H×W×3) and the superpixels (H×W), from the page."""
    size = int(round((len(page.bytes("input")) / 4) ** 0.5))
    network_input = np.frombuffer(page.bytes("input"), np.uint8).reshape(size, size, 4)[..., :3]
    photo = np.frombuffer(page.bytes("display"), np.uint8).reshape(shown["height"], shown["width"], 4)[..., :3]
    labels = np.frombuffer(page.bytes("labels"), np.int32).reshape(shown["height"], shown["width"])
    return network_input, photo, labels


@pytest.mark.parametrize("name", ["chelsea", "coffee", "astronaut", "rocket"])
def test_the_page_explains_a_photo_as_the_book_does(session, model, name):
    page = session["page"]
    result = page.explain(session["folder"] / f"{name}.png")
    assert result["state"] == "drawn", result["status"]
    shown = result["shown"]
    network_input, photo, labels = _page_photo(page, shown)
    image = load_image(name)
    # The input: CamModel.preprocess's resize, within one level.
    ours = model.preprocess(image)
    expected = np.rint(model.unnormalise(ours) * 255).astype(int)
    assert np.abs(network_input.astype(int) - expected).max() <= 1
    # The page's network is PyTorch's: on the page's own input, the same top 5 in the same order.
    top = [c["index"] for c in shown["top"]]
    x = torch.from_numpy(network_input.astype(np.float32) / 255).permute(2, 0, 1)[None]
    x = (x - torch.tensor(model.mean).view(1, 3, 1, 1)) / torch.tensor(model.std).view(1, 3, 1, 1)
    with torch.no_grad():
        page_logits, feature_maps = model.forward_features(x)
        logits = model(ours)[0].numpy()
    assert [int(c) for c in torch.argsort(page_logits[0], descending=True)[:5]] == top
    # And the top 5 of the photo as Python preprocesses it: the two inputs differ by a level
    # here and there (the resize's rounding), which moves the logits by `moved`; classes
    # closer than that (or than LOGIT_TIE of the largest) may swap places.
    moved = float(np.abs(page_logits[0].numpy() - logits).max())
    tie = max(LOGIT_TIE * np.abs(logits).max(), 2 * moved)
    expected_top = list(np.argsort(-logits)[:5])
    for i, (a, b) in enumerate(zip(top, expected_top)):
        assert a == b or abs(logits[a] - logits[b]) <= tie, (i, top, expected_top, moved)
    assert set(top[:4]) <= set(np.argsort(-logits)[:6])
    # The maps: render's, for the page's own input, photo and superpixels.
    explorer = SecamExplorer(model, images=[str(session["folder"] / f"{name}.png")])
    key = explorer.image_names[0]
    explorer._forward[key] = (np.ascontiguousarray(photo), feature_maps, model.top_k(logits=page_logits, k=5))
    explorer._segments[(key, 100, 10.0)] = labels.astype(np.int64)
    for method in ("CAM", "SeCAM"):
        rendered = explorer.render(image=key, class_index=top[0], method=method, n_segments=100,
                                   compactness=10.0, threshold=0.0, alpha=0.5).astype(int)
        levels = np.abs(_canvas(page, method) - rendered).max(axis=2)
        assert levels.mean() <= MEAN_LEVELS and levels.max() <= MAX_LEVELS, (method, levels.mean(), levels.max())
    # The superpixels: slic_from_scratch's on the photo as drawn.
    python_labels = slic_from_scratch(photo, n_segments=100, compactness=10.0)
    agreement = float((python_labels == labels).mean())
    assert agreement >= LABEL_AGREEMENT, agreement
    assert not page.errors and not page.offsite, (page.errors, page.offsite)


def test_a_file_that_is_not_an_image_gets_a_clear_message(session):
    page = session["page"]
    notes = session["folder"] / "notes.txt"
    notes.write_text("not a photo\n")
    result = page.explain(notes)
    assert result["state"] == "error"
    assert "“notes.txt” is not an image" in result["status"] and "JPEG, PNG" in result["status"], result["status"]
    assert page.page.locator(".cam-photo-status.cam-photo-error").count() == 1
    assert not page.errors, page.errors
    # The next photo is explained as usual, and the message goes.
    assert page.explain(session["photos"][0])["state"] == "drawn"
    assert page.page.locator(".cam-photo-status.cam-photo-error").count() == 0


def test_no_request_leaves_localhost_and_nothing_is_logged(session):
    page = session["page"]
    assert not page.offsite, f"the page tried to reach other hosts: {page.offsite}"
    assert not page.errors, f"console errors: {page.errors}"


def test_the_times_meet_the_targets_and_are_recorded(session):
    measured = session["measured"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "browser-benchmark.json").write_text(json.dumps(measured, indent=2) + "\n")
    for key in BROWSER_KEYS:
        assert measured[key] <= TARGETS_MS[key], f"{key} = {measured[key]:.0f} ms, target {TARGETS_MS[key]:.0f} ms"
