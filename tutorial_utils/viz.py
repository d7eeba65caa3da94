"""Figures: the last step of the book's data path."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .checks import as_map_array, number_in, positive_int
from .images import as_rgb_uint8
from .maps import upsample
from .models import Prediction

__all__ = ["DEFAULT_CMAP", "gradient_image", "overlay", "plot_top_k", "png_img_tag", "show_maps"]

#: Perceptually uniform and readable by colour-blind readers: lightness rises
#: steadily from black to pale yellow, so "brighter" always means "more".
DEFAULT_CMAP = "inferno"

# One colour from the colour-blind-safe Okabe–Ito palette.
_BAR_COLOUR = "#0072B2"


def plot_top_k(predictions: Sequence[Prediction], ax=None, title: str | None = None):
    """Horizontal bar chart of a top-k list, most probable class on top.

    ``predictions`` is what ``model.top_k(x, k)`` returns for one image; returns the ``Axes``.

    >>> ax = plot_top_k(model.top_k(x, 5), title="coffee")
    >>> len(ax.get_yticklabels())
    5
    """
    import matplotlib.pyplot as plt

    preds = list(predictions)
    if not preds or not all(isinstance(p, Prediction) for p in preds):
        raise TypeError("predictions must be a non-empty list of Prediction, as model.top_k(x, k) returns")
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

    ``image`` is RGB ``uint8`` or float in ``[0, 1]`` (``H×W×3``); ``heatmap`` a 2-D map in
    ``[0, 1]`` (use :func:`normalise` first) of any size, resized to the image bilinearly.
    Each pixel becomes :math:`(1-\alpha)\,\text{image} + \alpha\,\text{cmap}(\text{heatmap})`.

    >>> overlay(load_image("coffee"), normalise(cam)).shape
    (400, 600, 3)

    Raises ``TypeError`` or ``ValueError`` naming the bad argument (a heatmap outside
    ``[0, 1]``, with NaN or not 2-D; ``alpha`` outside ``[0, 1]``; an unknown colour map).
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
    alpha = number_in(alpha, "alpha", 0, 1)
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

    ``gradient`` is ``(3, H, W)`` (as :func:`guided_backprop` returns it) or ``(H, W, 3)``. Each
    value becomes :math:`0.5 + 0.5\,g / q`, clipped to ``[0, 1]``, with :math:`q` the ``percentile``
    of :math:`|g|` (so a few extreme pixels do not turn the rest grey). Returns RGB ``uint8``;
    an all-zero gradient gives a uniform grey image, never NaN.

    >>> gradient_image(np.zeros((3, 2, 2)))[0, 0]
    array([128, 128, 128], dtype=uint8)

    Raises ``ValueError`` for other shapes, NaN or infinite values, or a percentile outside ``(0, 100]``.
    """
    g = np.asarray(gradient, dtype=np.float64)
    if g.ndim == 3 and g.shape[0] == 3 and g.shape[-1] != 3:
        g = g.transpose(1, 2, 0)
    if g.ndim != 3 or g.shape[-1] != 3:
        raise ValueError(f"gradient must be (3, H, W) or (H, W, 3), got shape {np.shape(gradient)}")
    if not np.isfinite(g).all():
        raise ValueError("gradient contains NaN or infinite values")
    percentile = number_in(percentile, "percentile", 0, 100, above=True)
    q = np.percentile(np.abs(g), percentile)
    scaled = 0.5 + 0.5 * g / q if q > 0 else np.full_like(g, 0.5)
    return np.round(np.clip(scaled, 0.0, 1.0) * 255).astype(np.uint8)


def png_img_tag(picture, alt: str, *, max_width: str = "100%") -> str:
    """An HTML ``<img>`` holding ``picture`` as an embedded PNG, with alt text.

    For pictures inside widgets (``ipywidgets.HTML(value=png_img_tag(...))``): unlike an
    ``ipywidgets.Image`` it carries alt text for screen readers. ``picture`` is an RGB
    image (``uint8`` or float in ``[0, 1]``), PNG bytes, or a matplotlib ``Figure``.

    >>> png_img_tag(np.zeros((2, 2, 3), np.uint8), "a black square")[:33]
    '<img src="data:image/png;base64,i'

    Raises ``ValueError`` for empty alt text or bytes that are not a PNG, and what
    :func:`as_rgb_uint8` raises for a bad image.
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



def show_maps(image, maps: dict, *, alpha: float = 0.5, cmap: str = DEFAULT_CMAP, ncols: int | None = None,
              size: float = 3.0, title: str | None = None):
    """One panel per entry of ``maps`` (``{title: value}``), each value drawn over ``image``; returns ``(fig, axes)``.

    A value is a 2-D map in ``[0, 1]`` (blended with :func:`overlay`, resized to the
    image), ``None`` (the image alone) or an RGB picture ``H×W×3`` (drawn as it is).
    With ``image=None`` each map is drawn alone with the colour map. ``ncols`` panels a
    row (default: one row), each ``size`` inches high; ``axes`` holds one per panel, in order.

    >>> fig, axes = show_maps(image, {"photo": None, "CAM": normalise(cam)})
    >>> [ax.get_title() for ax in axes]
    ['photo', 'CAM']
    """
    import matplotlib.pyplot as plt

    if not isinstance(maps, dict) or not maps:
        raise TypeError(f"maps must be a non-empty dict {{title: map}}, got {type(maps).__name__}")
    panels = {name: _panel(image, value, alpha, cmap, name) for name, value in maps.items()}
    ncols = len(panels) if ncols is None else positive_int(ncols, "ncols")
    nrows = -(-len(panels) // ncols)
    aspect = max(panel.shape[1] / panel.shape[0] for panel in panels.values())  # room for the widest panel
    lines = max(str(name).count("\n") + 1 for name in panels)  # room for the tallest panel title, and the title
    height = (size + 0.2 * lines + 0.2) * nrows + (0.3 * (title.count("\n") + 1) if title else 0)
    fig, grid = plt.subplots(nrows, ncols, figsize=(size * ncols * aspect, height), squeeze=False, layout="constrained")
    for ax in grid.flat:
        ax.axis("off")
    for ax, (name, panel) in zip(grid.flat, panels.items()):
        ax.imshow(panel, cmap=cmap)
        ax.set_title(name, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig, grid.ravel()[: len(panels)]


def _panel(image, value, alpha: float, cmap: str, key) -> np.ndarray:
    """What the panel ``key`` of :func:`show_maps` shows: the image, a picture, a map over the image or alone."""
    try:
        if value is None:
            if image is None:
                raise ValueError("None shows the image, but image is None")
            return as_rgb_uint8(image, name="image")
        if getattr(value, "ndim", None) == 3:
            return as_rgb_uint8(value, name="the picture")
        return as_map_array(value, name="the map") if image is None else overlay(image, value, alpha=alpha, cmap=cmap)
    except (TypeError, ValueError) as error:
        raise type(error)(f"maps[{key!r}]: {error}") from error
