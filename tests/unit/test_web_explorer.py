"""The website's explorer: its data decodes back to the explorer's own numbers, and the HTML runs no code.

The drawing itself (book/_static/cam-explorer.js) is tested in Chromium by
test_web_explorer_browser.py.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
from html.parser import HTMLParser

import matplotlib
import numpy as np
import pytest
import yaml
from book_layout import ROOT

from tutorial_utils import DEFAULT_CMAP
from book_tools import DIMMED, WEB_SETTINGS, SecamExplorer, WebExplorer, web_explorer
from book_tools.web_explorer import FALLBACK

CHAPTER_IMAGES = ("coffee", "chelsea", "astronaut", "rocket")
#: The chapter's four images with the four default settings measured 0.99 MB (JPEG quality 95).
MAX_BYTES = 1_500_000
SCRIPT = ROOT / "book" / "_static" / "cam-explorer.js"


@pytest.fixture(scope="module")
def explorer(lite):
    return SecamExplorer(lite, images=CHAPTER_IMAGES)


@pytest.fixture(scope="module")
def web(explorer):
    return explorer.web_version()


def _float32(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def _labels(text: str, shape) -> np.ndarray:
    return np.frombuffer(gzip.decompress(base64.b64decode(text)), dtype="<u2").reshape(shape)


def test_the_chapters_explorer_fits_in_the_page(web):
    assert [image["name"] for image in web.data["images"]] == list(CHAPTER_IMAGES)
    assert [(s["n_segments"], s["compactness"]) for s in web.data["images"][0]["segmentations"]] == list(WEB_SETTINGS)
    assert web.nbytes < MAX_BYTES, f"the website's explorer takes {web.nbytes / 1e6:.2f} MB of HTML"


def test_the_data_decodes_back_to_the_explorers_numbers(explorer, web):
    for image in web.data["images"]:
        name = image["name"]
        rgb = explorer.image_array(name)
        assert (image["height"], image["width"]) == rgb.shape[:2]
        from PIL import Image

        photo = np.asarray(Image.open(io.BytesIO(base64.b64decode(image["jpeg"]))).convert("RGB"))
        assert photo.shape == rgb.shape and np.abs(photo.astype(int) - rgb).mean() < 2.5  # JPEG, quality 95
        top = explorer.top_classes(name)
        assert [c["index"] for c in image["classes"]] == [p.index for p in top]
        assert [c["label"] for c in image["classes"]] == [p.label for p in top]
        assert np.allclose([c["probability"] for c in image["classes"]], [p.probability for p in top], atol=1e-4)
        for klass in image["classes"]:
            grid = explorer.cam_grid(name, klass["index"])
            assert list(grid.shape) == image["grid"]
            assert np.array_equal(_float32(klass["cam"]), grid.astype(np.float32).ravel())
        for segmentation in image["segmentations"]:
            n, compactness = segmentation["n_segments"], segmentation["compactness"]
            segments = explorer.segments(name, n, compactness)
            labels = _labels(segmentation["labels"], segments.shape)
            # The same partition, numbered 0 … L-1 in sorted label order.
            assert np.array_equal(np.unique(segments, return_inverse=True)[1].reshape(segments.shape), labels)
            assert segmentation["count"] == labels.max() + 1 == len(np.unique(segments))
            for klass, values in zip(image["classes"], segmentation["secam"]):
                shown = explorer.values(image=name, class_index=klass["index"], method="SeCAM",
                                        n_segments=n, compactness=compactness)
                # Painted back, the page's numbers are render's SeCAM map, bit for bit.
                assert np.array_equal(_float32(values)[labels], shown), (name, n, klass["label"])


def test_the_colours_and_the_dimming_are_renders(web):
    table = matplotlib.colormaps[DEFAULT_CMAP](np.arange(256))[:, :3]
    assert np.array_equal(np.array(web.data["colours"]), table)
    assert web.data["dimmed"] == DIMMED == 0.3
    start = web.data["start"]
    assert (start["image"], start["method"], start["threshold"], start["alpha"]) == ("coffee", "SeCAM", 0.0, 0.5)
    assert WEB_SETTINGS[start["setting"]] == (100, 10.0)  # the explorer's own default


class _Scripts(HTMLParser):
    def __init__(self):
        super().__init__()
        self.scripts, self.handlers, self.text = [], [], []
        self._inside = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.handlers += [name for name in attrs if name.startswith("on")]
        if tag == "script":
            self._inside = attrs
            self.scripts.append([attrs, ""])

    def handle_endtag(self, tag):
        if tag == "script":
            self._inside = None

    def handle_data(self, data):
        if self._inside is not None:
            self.scripts[-1][1] += data
        else:
            self.text.append(data)


def test_the_html_holds_data_and_no_code(web):
    parser = _Scripts()
    parser.feed(web._repr_html_())
    assert web._repr_html_() == web.html and web.html.startswith('<div class="cam-web-explorer"')
    assert not parser.handlers and "javascript:" not in web.html.lower()
    assert len(parser.scripts) == 1
    attrs, text = parser.scripts[0]
    assert attrs.get("type") == "application/json" and "src" not in attrs
    assert json.loads(text) == web.data
    # What JupyterLab shows: it does not load the site's script.
    assert " ".join(parser.text).strip() == FALLBACK and "JupyterLab" in FALLBACK


def test_text_in_the_data_cannot_end_the_script():
    label = "</script><script>alert(1)</script><!-- & more"
    web = WebExplorer({"version": 1, "images": [], "label": label})
    assert web.html.count("</script>") == 1 and "<!--" not in web.html
    text = re.search(r'<script type="application/json"[^>]*>(.*)</script>', web.html).group(1)
    assert json.loads(text)["label"] == label


def test_the_page_loads_the_script_from_the_site_itself():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]
    assert "cam-explorer.js" in config["html_js_files"]
    assert "book/_static" in config["html_static_path"] and SCRIPT.is_file()
    source = SCRIPT.read_text()
    for reaching_out in ("http:", "https:", "fetch(", "XMLHttpRequest", "import(", "WebSocket"):
        assert reaching_out not in source, f"cam-explorer.js must load nothing: found {reaching_out!r}"


def test_a_subset_and_bad_arguments(explorer):
    small = web_explorer(explorer, [(30, 5)], images=["chelsea"], jpeg_quality=80)
    image = small.data["images"][0]
    assert image["name"] == "chelsea" and image["segmentations"][0]["compactness"] == 5.0
    assert small.data["start"]["image"] == "chelsea" and small.data["start"]["setting"] == 0
    assert "chelsea" in repr(small)
    for settings, pattern in [([], "at least one"), ([(0, 10.0)], "n_segments"), ([(50, -1.0)], "compactness"),
                              ([(50, 10.0), (50, 10)], "repeat"), ([50], "pairs"), ([(50.5, 10.0)], "n_segments"),
                              ([(50, float("inf"))], "finite"), ([(50, float("nan"))], "compactness")]:
        with pytest.raises(ValueError, match=pattern):
            web_explorer(explorer, settings)
    with pytest.raises(ValueError, match="images"):
        web_explorer(explorer, images=["nope"])
    with pytest.raises(ValueError, match="jpeg_quality"):
        web_explorer(explorer, jpeg_quality=0)
    with pytest.raises(TypeError, match="SecamExplorer"):
        web_explorer("coffee")
    assert [i["name"] for i in web_explorer(explorer, [(30, 5)], images="chelsea").data["images"]] == ["chelsea"]
    with pytest.raises(ValueError, match="images"):
        WebExplorer({"version": 1})


def test_the_explorers_accessors_check_the_image(explorer):
    with pytest.raises(ValueError, match="unknown image"):
        explorer.image_array("nope")
    with pytest.raises(ValueError, match="unknown image"):
        explorer.segments("nope", 100, 10.0)
    settings = dict(explorer.settings)
    explorer.values(image="chelsea", method="CAM")
    assert explorer.settings == settings  # values() draws nothing and changes no setting
