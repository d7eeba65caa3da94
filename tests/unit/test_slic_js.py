"""``book/_static/cam-slic.js`` (chapter 4's SLIC in JavaScript) against ``slic_from_scratch``.

The website's "explain your own photo" box cuts the reader's photo into superpixels with
``CamSlic.slic``, a line-by-line port of :func:`tutorial_utils.slic_from_scratch`. Here both
run on the same images — Node.js runs the JavaScript through ``slic_js_driver.js`` — and the
superpixels are compared: the benchmark's ten generated scenes (256×256, with their true
labels) and two sample photos resized to 224×224 (the size the page segments), all with
100 superpixels asked for and compactness 10.

Measured on the development machine (x86-64, Node.js 20, NumPy with OpenBLAS):

- labels: identical on all twelve images (agreement 1.000000, the same numbering), and on
  the eight small images of ``test_odd_sizes_rgba_and_options_match_python`` (and thirty
  more random ones of odd sizes, options and contents tried while porting);
- superpixel counts: the same (scenes 69–82, chelsea 95, coffee 91);
- boundary recall of each against the other: 1.0000 both ways; against the scenes' true
  labels, JavaScript's equals Python's (0.63–0.79);
- ``rgbToLab`` against ``skimage.color.rgb2lab``: at most 3.3e-13 apart over all 2²⁴ colours
  (NumPy's matrix product uses fused multiply-adds here and glibc's ``pow`` rounds a few
  gamma values differently from V8's); these last-bit differences changed no label;
- ``CamSlic.slic`` on a 224×224 photo: 52–94 ms (median of 5 runs; two cores, shared).

The tolerances leave room for another CPU, whose last bits may differ and flip a pixel
that sits on an exact tie: a flip can renumber the later superpixels, so agreement is
asserted after matching each JavaScript label to the Python label it overlaps most.
Node.js is needed, as ``make install`` already needs it (npm).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from statistics import median

import numpy as np
import pytest

from tutorial_utils import load_image, slic_from_scratch
from tutorial_utils.superpixel_metrics import boundary_recall

DRIVER = Path(__file__).with_name("slic_js_driver.js")

#: Share of pixels whose JavaScript label is the Python label it overlaps most (measured: 1.0).
LABEL_AGREEMENT = 0.99
#: Boundary recall of each segmentation against the other, both ways (measured: 1.0).
BOUNDARY_RECALL = 0.99
#: Superpixel counts may differ by this fraction of Python's (measured: 0).
COUNT_TOLERANCE = 0.02
#: JavaScript's boundary recall against the scenes' true labels, within this of Python's (measured: 0).
TRUTH_RECALL_GAP = 0.01
#: ``rgbToLab`` against ``rgb2lab`` (measured: 3.3e-13; the rest is rounding of float64).
LAB_TOLERANCE = 1e-9
#: A generous bound on one 224×224 segmentation in Node.js (measured: 52–94 ms).
MAX_MS = 2000.0
#: The page's image size, and the settings of the comparison.
PHOTO_SIZE = 224
N_SEGMENTS, COMPACTNESS = 100, 10.0
PHOTOS = ("chelsea", "coffee")


def run_js(jobs: list[dict]) -> list[dict]:
    """The driver's answers to ``jobs`` (see ``slic_js_driver.js``)."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to test book/_static/cam-slic.js (node is not on PATH); install Node.js "
                    "(Debian: apt-get install nodejs npm), as `make install` already needs npm")
    done = subprocess.run([node, str(DRIVER)], input=json.dumps(jobs), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the driver failed:\n{done.stderr}"
    return json.loads(done.stdout)


def job(op: str, image: np.ndarray, **fields) -> dict:
    """A job for the driver: ``image`` H×W×3 (RGB) or H×W×4 (RGBA) ``uint8``."""
    height, width, channels = image.shape
    pixels = base64.b64encode(np.ascontiguousarray(image, dtype=np.uint8).tobytes()).decode()
    return {"op": op, "width": width, "height": height, "channels": channels, "pixels": pixels, **fields}


def labels_of(answer: dict, shape) -> np.ndarray:
    assert "error" not in answer, answer["error"]
    return np.frombuffer(base64.b64decode(answer["labels"]), dtype="<i4").reshape(shape).astype(np.int64)


def photo(name: str) -> np.ndarray:
    """A sample photo at the page's size, 8-bit RGB."""
    from skimage.transform import resize

    resized = resize(load_image(name), (PHOTO_SIZE, PHOTO_SIZE), preserve_range=True, anti_aliasing=True)
    return np.clip(np.round(resized), 0, 255).astype(np.uint8)


def matched_agreement(js: np.ndarray, py: np.ndarray) -> float:
    """Share of pixels in the Python superpixel that their JavaScript superpixel overlaps most."""
    overlap = np.bincount(js.ravel() * (py.max() + 1) + py.ravel(), minlength=(js.max() + 1) * (py.max() + 1))
    return float(overlap.reshape(js.max() + 1, py.max() + 1).max(axis=1).sum() / js.size)


@pytest.fixture(scope="module")
def compared() -> list[dict]:
    """Per image: both segmentations and the measures of the module docstring."""
    from benchmarks.pipelines import quality_scenes

    images = [(f"scene {i}", image, truth) for i, (image, truth) in enumerate(quality_scenes())]
    images += [(name, photo(name), None) for name in PHOTOS]
    options = {"nSegments": N_SEGMENTS, "compactness": COMPACTNESS}
    answers = run_js([job("slic", image, options=options) for _, image, _ in images])
    rows = []
    for (name, image, truth), answer in zip(images, answers):
        js = labels_of(answer, image.shape[:2])
        py = slic_from_scratch(image, N_SEGMENTS, COMPACTNESS)
        rows.append({
            "name": name, "agreement": float(np.mean(js == py)), "matched": matched_agreement(js, py),
            "count_js": answer["count"], "count_py": int(py.max()) + 1, "js_count_ok": answer["count"] == js.max() + 1,
            "recall_js_py": boundary_recall(js, py), "recall_py_js": boundary_recall(py, js),
            "truth_js": None if truth is None else boundary_recall(js, truth),
            "truth_py": None if truth is None else boundary_recall(py, truth),
        })
    return rows


def test_labels_match_python(compared, capsys):
    with capsys.disabled():
        print("\nimage      agreement  matched  count js/py  recall js→py py→js  truth js / py")
        for r in compared:
            truth = "" if r["truth_js"] is None else f"{r['truth_js']:.4f} / {r['truth_py']:.4f}"
            print(f"{r['name']:<10} {r['agreement']:.6f}  {r['matched']:.6f}  {r['count_js']:>4} / {r['count_py']:<4}"
                  f"  {r['recall_js_py']:.4f} {r['recall_py_js']:.4f}  {truth}")
    for r in compared:
        assert r["js_count_ok"], r
        assert r["matched"] >= LABEL_AGREEMENT, r
        assert abs(r["count_js"] - r["count_py"]) <= COUNT_TOLERANCE * r["count_py"], r
        assert min(r["recall_js_py"], r["recall_py_js"]) >= BOUNDARY_RECALL, r
        if r["truth_js"] is not None:
            assert abs(r["truth_js"] - r["truth_py"]) <= TRUTH_RECALL_GAP, r


def test_odd_sizes_rgba_and_options_match_python():
    # Small images of odd shapes, RGBA as a canvas gives them, other settings, no connectivity step.
    rng = np.random.default_rng(4)
    coffee = load_image("coffee")
    cases = [((37, 61), 50, 1.0, True), ((61, 7), 20, 0.5, False), ((23, 90), 150, 40.0, True), ((80, 33), 3, 10.0, False)]
    images, jobs = [], []
    for (h, w), n, m, connect in cases:
        for image in (rng.integers(0, 256, (h, w, 3), dtype=np.uint8), coffee[100:100 + h, 200:200 + w]):
            rgba = np.concatenate([image, np.full((h, w, 1), 7, np.uint8)], axis=2)  # alpha is ignored
            images.append((image, n, m, connect))
            jobs.append(job("slic", rgba, options={"nSegments": n, "compactness": m, "enforceConnectivity": connect}))
    for (image, n, m, connect), answer in zip(images, run_js(jobs)):
        js = labels_of(answer, image.shape[:2])
        py = slic_from_scratch(image, n, m, enforce_connectivity=connect)
        assert matched_agreement(js, py) >= LABEL_AGREEMENT, (image.shape, n, m, connect)
        assert abs(answer["count"] - (py.max() + 1)) <= max(1, COUNT_TOLERANCE * (py.max() + 1))


def test_rgb_to_lab_is_skimages():
    from skimage.color import rgb2lab

    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    (answer,) = run_js([job("lab", image)])
    lab = np.frombuffer(base64.b64decode(answer["lab"]), dtype="<f8").reshape(image.shape)
    assert np.abs(lab - rgb2lab(image)).max() <= LAB_TOLERANCE


def test_bad_input_gives_a_clear_error():
    image = np.zeros((10, 10, 3), np.uint8)
    short = {**job("slic", image), "pixels": base64.b64encode(bytes(299)).decode()}
    no_segments = job("slic", image, options={"nSegments": 0})
    wrong, zero = run_js([short, no_segments])
    assert "pixels" in wrong["error"] and "300" in wrong["error"] and "299" in wrong["error"], wrong
    assert "nSegments" in zero["error"], zero


def test_time_on_a_photo(capsys):
    (answer,) = run_js([job("time", photo("chelsea"), runs=5, options={"nSegments": N_SEGMENTS})])
    ms = median(answer["ms"])
    with capsys.disabled():
        print(f"\nCamSlic.slic on a {PHOTO_SIZE}×{PHOTO_SIZE} photo in Node.js: {ms:.0f} ms (median of 5 runs)")
    assert ms < MAX_MS
