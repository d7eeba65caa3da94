"""Figures: the last step of the book's data path."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .checks import as_map_array
from .images import as_rgb_uint8
from .maps import upsample
from .models import Prediction

__all__ = ["DEFAULT_CMAP", "gradient_image", "overlay", "plot_top_k", "png_img_tag"]

#: Perceptually uniform and readable by colour-blind readers: lightness rises
#: steadily from black to pale yellow, so "brighter" always means "more".
DEFAULT_CMAP = "inferno"

# One colour from the colour-blind-safe Okabe–Ito palette.
_BAR_COLOUR = "#0072B2"


def plot_top_k(predictions: Sequence[Prediction], ax=None, title: str | None = None):
    """Horizontal bar chart of a top-k list, most probable class on top.

    ``predictions`` is what ``model.top_k(x, k)`` returns for one image.
    Returns the matplotlib ``Axes``.

    >>> ax = plot_top_k(model.top_k(x, 5), title="coffee")
    >>> len(ax.get_yticklabels())
    5
    """
    import matplotlib.pyplot as plt

    preds = list(predictions)
    if not preds or not all(isinstance(p, Prediction) for p in preds):
        raise TypeError(
            "predictions must be a non-empty list of Prediction, as returned by "
            "model.top_k(x, k) for one image"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.45 * len(preds) + 0.8))
    labels = [p.label for p in preds][::-1]
    probs = [p.probability for p in preds][::-1]
    bars = ax.barh(range(len(preds)), probs, color=_BAR_COLOUR)
    ax.set_yticks(range(len(preds)), labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    for bar, p in zip(bars, probs):
        inside = p > 0.75
        ax.text(
            p - 0.01 if inside else p + 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{p:.1%}",
            va="center",
            ha="right" if inside else "left",
            color="white" if inside else "black",
            fontsize=9,
        )
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title)
    return ax


def overlay(image, heatmap, *, alpha: float = 0.5, cmap: str = DEFAULT_CMAP) -> np.ndarray:
    r"""Blend a heatmap in ``[0, 1]`` over an image; returns RGB ``uint8`` ``H×W×3``.

    ``image`` is RGB ``uint8`` or float in ``[0, 1]`` (``H×W×3``). ``heatmap`` is a
    2-D map with values in ``[0, 1]`` — use :func:`normalise` first — of any
    size: it is resized to the image bilinearly. Each pixel becomes
    :math:`(1-\alpha)\,\text{image} + \alpha\,\text{cmap}(\text{heatmap})`.

    >>> overlay(load_image("coffee"), normalise(cam)).shape
    (400, 600, 3)

    Raises
    ------
    TypeError, ValueError
        An image that is not RGB ``H×W×3``; a heatmap that is not 2-D, holds NaN
        or values outside ``[0, 1]``; ``alpha`` outside ``[0, 1]``; an unknown
        colour map.
    """
    import matplotlib


    rgb = as_rgb_uint8(image, name="image")
    heat = as_map_array(heatmap, name="heatmap")
    if heat.ndim != 2:
        raise ValueError(f"heatmap must be one 2-D map (h, w), got shape {heat.shape}")
    low, high = float(heat.min()), float(heat.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise ValueError(
            f"heatmap values must lie in [0, 1], got [{low:.3g}, {high:.3g}]; "
            "scale it with normalise(heatmap) first"
        )
    if not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be a number between 0 and 1, got {alpha!r}")
    try:
        colormap = matplotlib.colormaps[cmap]
    except KeyError:
        raise ValueError(f"unknown colour map {cmap!r}; try 'inferno', 'viridis' or 'cividis'") from None
    if heat.shape != rgb.shape[:2]:
        heat = upsample(heat, rgb.shape[:2])
    colours = colormap(np.clip(heat, 0.0, 1.0))[..., :3]
    blended = (1.0 - alpha) * (rgb / 255.0) + alpha * colours
    return np.round(blended * 255.0).astype(np.uint8)


def gradient_image(gradient, *, percentile: float = 99.0) -> np.ndarray:
    r"""Show a signed gradient image: grey is zero, brighter/darker is positive/negative.

    ``gradient`` is ``(3, H, W)`` (what :func:`guided_backprop` returns) or
    ``(H, W, 3)``. Each value becomes :math:`0.5 + 0.5\,g / q`, clipped to
    ``[0, 1]``, with :math:`q` the ``percentile`` of :math:`|g|` — so a few
    extreme pixels do not turn the rest grey. Returns RGB ``uint8`` ``H×W×3``;
    an all-zero gradient gives a uniform grey image, never NaN.

    >>> gradient_image(np.zeros((3, 2, 2)))[0, 0]
    array([128, 128, 128], dtype=uint8)

    Raises ``ValueError`` for other shapes, NaN or infinite values, or a
    percentile outside ``(0, 100]``.
    """
    g = np.asarray(gradient, dtype=np.float64)
    if g.ndim == 3 and g.shape[0] == 3 and g.shape[-1] != 3:
        g = g.transpose(1, 2, 0)
    if g.ndim != 3 or g.shape[-1] != 3:
        raise ValueError(f"gradient must be (3, H, W) or (H, W, 3), got shape {np.shape(gradient)}")
    if not np.isfinite(g).all():
        raise ValueError("gradient contains NaN or infinite values")
    if not 0 < percentile <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {percentile}")
    q = np.percentile(np.abs(g), percentile)
    scaled = 0.5 + 0.5 * g / q if q > 0 else np.full_like(g, 0.5)
    return np.round(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)


def png_img_tag(picture, alt: str, *, max_width: str = "100%") -> str:
    """An HTML ``<img>`` holding ``picture`` as an embedded PNG, with alt text.

    For pictures shown inside widgets (``ipywidgets.HTML(value=png_img_tag(...))``):
    unlike an ``ipywidgets.Image`` the tag carries alt text, which screen readers
    read in JupyterLab and on the website. ``picture`` is an RGB image (``uint8``
    or float in ``[0, 1]``, ``H×W×3``), PNG bytes, or a matplotlib ``Figure``.

    >>> png_img_tag(np.zeros((2, 2, 3), np.uint8), "a black square")[:33]
    '<img src="data:image/png;base64,i'

    Raises ``ValueError`` for empty alt text or bytes that are not a PNG, and
    whatever :func:`as_rgb_uint8` raises for a bad image.
    """
    import base64
    import html
    import io

    if not isinstance(alt, str) or not alt.strip():
        raise ValueError("png_img_tag needs alt text: say in words what the picture shows")
    if isinstance(picture, (bytes, bytearray)):
        data = bytes(picture)
        if not data.startswith(b"\x89PNG"):
            raise ValueError("png_img_tag: the bytes given are not a PNG image")
    elif hasattr(picture, "savefig"):
        buffer = io.BytesIO()
        picture.savefig(buffer, format="png")
        data = buffer.getvalue()
    else:
        from PIL import Image

        buffer = io.BytesIO()
        Image.fromarray(as_rgb_uint8(picture, name="picture")).save(buffer, format="png")
        data = buffer.getvalue()
    source = base64.b64encode(data).decode("ascii")
    return (f'<img src="data:image/png;base64,{source}" alt="{html.escape(alt.strip(), quote=True)}" '
            f'style="max-width: {max_width}; height: auto">')

