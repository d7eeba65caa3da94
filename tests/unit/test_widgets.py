import base64
import html
import re
import time

import numpy as np
import pytest

from book_tools import SecamExplorer


@pytest.fixture(scope="module")
def explorer(lite):
    return SecamExplorer(lite, images=["coffee", "chelsea"])


def test_render_defaults_to_the_top_class(explorer):
    rgb = explorer.render()
    assert rgb.dtype == np.uint8 and rgb.shape[2] == 3
    assert explorer.settings["class_index"] == explorer.top_classes("coffee")[0].index


def test_threshold_and_opacity_redraw_fast_from_the_cache(explorer):
    explorer.render(method="SeCAM", n_segments=100, compactness=10)  # fills the caches
    times = []
    for t in (0.1, 0.3, 0.5, 0.7):
        explorer.render(threshold=t, alpha=t)
        times.append(explorer.last_render_seconds)
    assert max(times) < 0.2, times


def test_threshold_darkens_what_it_drops(explorer):
    full = explorer.render(threshold=0.0)
    cut = explorer.render(threshold=0.9)
    assert cut.sum() < full.sum()


def test_caches_are_reused(explorer):
    explorer.render(image="chelsea", method="SeCAM", n_segments=60)
    n = len(explorer._segments)
    start = time.perf_counter()
    explorer.render(image="chelsea", method="CAM")
    explorer.render(image="chelsea", method="SeCAM", n_segments=60)
    assert len(explorer._segments) == n
    assert time.perf_counter() - start < 0.5


def test_bad_settings(explorer):
    with pytest.raises(ValueError, match="unknown image"):
        explorer.render(image="nope")
    with pytest.raises(ValueError, match="method"):
        explorer.render(method="LIME")
    with pytest.raises(ValueError, match="unknown settings"):
        explorer.render(colour="red")
    with pytest.raises(ValueError, match="threshold"):
        explorer.render(threshold=2)


def test_widget_builds(explorer):
    ui = explorer.widget
    picture = ui.children[1]  # below the controls: an <img> with alt text
    match = re.fullmatch(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)" style="[^"]*">', picture.value)
    assert match, picture.value[:120]
    assert base64.b64decode(match.group(1))[:4] == b"\x89PNG"
    left, right = ui.children[0].children
    image, method, threshold = left.children[0], left.children[2], right.children[2]
    alt = html.unescape(match.group(2))
    assert alt.startswith(f"{method.value} heatmap for the class ") and image.value in alt
    # The alt text follows the controls.
    method.value, threshold.value = "CAM", 0.0
    assert 'alt="CAM heatmap' in picture.value and "superpixels" not in picture.value
    method.value, threshold.value = "SeCAM", 0.5
    assert 'alt="SeCAM heatmap' in picture.value and "superpixels" in picture.value
    assert "below 0.50 of the maximum" in picture.value


def test_explorer_uses_the_fast_superpixels_where_available(lite):
    from tutorial_utils import class_activation_map, fast_superpixels, secam, upsample

    explorer = SecamExplorer(lite, images=["coffee"])
    assert explorer.slic_backend == "opencv"  # requirements.txt installs OpenCV's contrib modules
    explorer.render(method="SeCAM", n_segments=50, compactness=10)
    image, feature_maps, top = explorer._image("coffee")
    segments = fast_superpixels(image, 50, 10.0)
    assert np.array_equal(explorer._segments[("coffee", 50, 10.0)], segments)
    # Its SeCAM comes from the feature grid, and equals the pixel route's.
    c = top[0].index
    by_pixels = secam(upsample(class_activation_map(feature_maps, lite.fc_weight, c), image), segments)
    shown = explorer._secam[("coffee", c, 50, 10.0)]
    assert np.abs(shown - by_pixels).max() <= 1e-5 * np.ptp(by_pixels)
    assert SecamExplorer(lite, images=["coffee"], slic_backend="skimage").slic_backend == "skimage"
    with pytest.raises(ValueError, match="slic_backend"):
        SecamExplorer(lite, images=["coffee"], slic_backend="fast")
