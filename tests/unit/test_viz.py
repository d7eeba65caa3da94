import matplotlib
import numpy as np
import pytest

from tutorial_utils import overlay, plot_top_k
from tutorial_utils.models import Prediction


def test_overlay_uint8_and_float_images_agree():
    img = np.full((20, 30, 3), 100, np.uint8)
    heat = np.linspace(0, 1, 6).reshape(2, 3)
    a = overlay(img, heat)
    b = overlay(img / 255.0, heat)
    assert a.shape == (20, 30, 3) and a.dtype == np.uint8
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_overlay_blends_with_the_colour_map():
    img = np.zeros((4, 4, 3), np.uint8)
    heat = np.ones((4, 4))
    out = overlay(img, heat, alpha=1.0, cmap="viridis")
    expected = np.round(np.array(matplotlib.colormaps["viridis"](1.0)[:3]) * 255)
    assert (out == expected).all()
    assert (overlay(img, heat, alpha=0.0) == img).all()


@pytest.mark.parametrize(
    "image,heat,kwargs,error,pattern",
    [
        (np.zeros((3, 8, 8)), np.zeros((2, 2)), {}, ValueError, "channels-first"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((2, 2, 2)), {}, ValueError, "one 2-D map"),
        (np.zeros((8, 8, 3), np.uint8), np.full((2, 2), 3.0), {}, ValueError, "normalise"),
        (np.zeros((8, 8, 3), np.uint8), np.full((2, 2), np.nan), {}, ValueError, "NaN"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((2, 2)), {"alpha": 1.5}, ValueError, "alpha"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((2, 2)), {"cmap": "nope"}, ValueError, "colour map"),
        (np.zeros((8, 8, 3), np.uint8), np.zeros((2, 2), bool), {}, TypeError, "numbers"),
    ],
)
def test_overlay_bad_input(image, heat, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        overlay(image, heat, **kwargs)


def test_plot_top_k():
    preds = [Prediction(1, "a", 0.9, 3.0), Prediction(2, "b", 0.05, 1.0)]
    ax = plot_top_k(preds, title="t")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    with pytest.raises(TypeError, match="Prediction"):
        plot_top_k([])


def test_png_img_tag_embeds_a_png_with_alt_text():
    import base64
    import html
    import re

    import matplotlib.pyplot as plt

    from tutorial_utils import png_img_tag

    tag = png_img_tag(np.zeros((4, 5, 3), np.uint8), 'a "black" <box>')
    src, alt = re.fullmatch(r'<img src="data:image/png;base64,([^"]+)" alt="([^"]+)" style="[^"]*">', tag).groups()
    assert base64.b64decode(src)[:4] == b"\x89PNG" and html.unescape(alt) == 'a "black" <box>'
    fig = plt.figure(figsize=(1, 1))
    assert 'alt="a figure"' in png_img_tag(fig, "a figure")
    plt.close(fig)
    png = base64.b64decode(src)
    assert png_img_tag(png, "bytes").startswith('<img src="data:image/png;base64,' + src)
    with pytest.raises(ValueError, match="alt text"):
        png_img_tag(np.zeros((2, 2, 3), np.uint8), "  ")
    with pytest.raises(ValueError, match="not a PNG"):
        png_img_tag(b"GIF89a", "a gif")


def test_show_maps_draws_one_titled_panel_per_map():
    import matplotlib.pyplot as plt

    from tutorial_utils import show_maps

    image = np.full((20, 30, 3), 100, np.uint8)
    maps = {"photo": None, "small map": np.linspace(0, 1, 6).reshape(2, 3),
            "picture": np.zeros((20, 30, 3), np.uint8), "full map": np.ones((20, 30))}
    fig, axes = show_maps(image, maps, ncols=3, title="t")
    assert axes.shape == (4,) and len(fig.axes) == 6  # a 2 × 3 grid, two cells left empty
    assert [ax.get_title() for ax in axes] == list(maps)
    assert axes[1].get_images()[0].get_array().shape == (20, 30, 3)  # upsampled and blended
    assert not any(ax.axison for ax in fig.axes)
    plt.close(fig)
    fig, axes = show_maps(None, {"a": np.zeros((4, 4)), "b": np.ones((4, 4))})
    assert axes.shape == (2,) and axes[0].get_images()[0].get_cmap().name == "inferno"
    plt.close(fig)


@pytest.mark.parametrize(
    "image,maps,error,pattern",
    [
        (np.zeros((8, 8, 3), np.uint8), {"CAM": np.full((2, 2), 3.0)}, ValueError, r"maps\['CAM'\].*normalise"),
        (np.zeros((8, 8, 3), np.uint8), {"bad": "text"}, TypeError, r"maps\['bad'\]"),
        (None, {"photo": None}, ValueError, r"maps\['photo'\].*image is None"),
        (np.zeros((8, 8, 3), np.uint8), {"rgb": np.zeros((3, 8, 8))}, ValueError, r"maps\['rgb'\].*channels-first"),
        (np.zeros((8, 8, 3), np.uint8), {}, TypeError, "non-empty dict"),
        (np.zeros((8, 8, 3), np.uint8), [np.zeros((2, 2))], TypeError, "dict"),
    ],
)
def test_show_maps_bad_input_names_the_key(image, maps, error, pattern):
    from tutorial_utils import show_maps

    with pytest.raises(error, match=pattern):
        show_maps(image, maps)
