r"""The SLIC toy as a diagram: its pixels, the grid of interval :math:`S`, the centres and one :math:`2S \times 2S` window.

Everything drawn is read from the image and from the :class:`~tutorial_utils.slic.SlicTrace`
that :func:`~tutorial_utils.slic.slic_from_scratch` filled: the intensities, the
grid interval ``trace.S``, where each centre started (``trace.grid_centres``)
and where the move to the lowest gradient put it (``trace.moved_centres``).
The window of one centre is the square of side :math:`2S` around it: the
pixels whose row and column both lie within :math:`S` of the centre's are
shaded, the rest of the square (outside the image) is only outlined.

>>> import numpy as np
>>> from tutorial_utils.slic import SlicTrace, slic_from_scratch
>>> toy = np.repeat(np.repeat(np.array([[10, 20], [30, 40]]), 3, axis=0), 3, axis=1)
>>> trace = SlicTrace(0.0, None, None)
>>> _ = slic_from_scratch(toy, 4, 10, convert_to_lab=False, trace=trace)
>>> fig = slic_toy_diagram(toy, trace)
>>> any(t.get_text() == "S = 3" for t in fig.axes[0].texts)
True
"""

from __future__ import annotations

import numpy as np

from .draw import COLOURS, arrow, box, canvas, label

__all__ = ["slic_toy_diagram", "window_pixels"]

_FILLS = ("input", "maps", "weights", "output", "layer", "neutral")


def window_pixels(shape, centre, S) -> np.ndarray:
    r"""The pixels of an image of ``shape`` inside the :math:`2S \times 2S` window of ``centre`` = (row, column).

    A pixel :math:`(y, x)` is inside when :math:`|y - r| \le S` and :math:`|x - c| \le S`.

    >>> int(window_pixels((5, 5), (1, 1), 2.5).sum())
    16
    """
    r, c = centre
    rows, cols = np.indices(shape)
    return (np.abs(rows - r) <= S) & (np.abs(cols - c) <= S)


def slic_toy_diagram(image, trace, *, centre: int = 0, title: str | None = None):
    r"""Draw a small grayscale ``image``, SLIC's grid of interval ``trace.S``, its centres and the window of one.

    ``image`` is a small ``H×W`` integer array (each pixel is drawn with its
    value, one fill per distinct value); ``trace`` a
    :class:`~tutorial_utils.slic.SlicTrace` filled by
    :func:`~tutorial_utils.slic.slic_from_scratch` on that image; ``centre`` the
    index of the centre whose :math:`2S \times 2S` window is drawn. Hollow
    rings mark where the centres start (the middle of each grid cell, rounded
    down), thick rings where the move to the lowest gradient puts them.

    Returns the matplotlib figure. Raises ``ValueError`` for an image that is
    not 2-D or larger than 12 × 12 pixels, a trace that was not filled, or a
    ``centre`` that does not exist.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"image must be a small H×W grayscale array, got shape {img.shape}")
    H, W = img.shape
    if max(H, W) > 12:
        raise ValueError(f"the diagram draws every pixel: use an image of at most 12 × 12, got {H} × {W}")
    if trace.grid_centres is None or trace.moved_centres is None:
        raise ValueError("trace is empty: pass it to slic_from_scratch(..., trace=trace) first")
    starts, moved, S = np.asarray(trace.grid_centres), np.asarray(trace.moved_centres), float(trace.S)
    if not 0 <= centre < len(moved):
        raise ValueError(f"centre must be one of 0 … {len(moved) - 1}, got {centre}")

    from matplotlib.patches import Rectangle

    margin, legend = 1.6, 5.4
    fig, ax = canvas(margin + W + margin + legend, H + 2 * margin, scale=0.62)
    x0, y0 = margin, margin  # lower-left corner of the image

    def xy(row, col):
        """Drawing coordinates of a position in pixels (pixel (r, c) spans [c, c+1] × [r, r+1], rows downwards)."""
        return x0 + col, y0 + H - row

    # the pixels, one fill per distinct value, with their values
    values = list(np.unique(img))
    for r in range(H):
        for c in range(W):
            fill = _FILLS[values.index(img[r, c]) % len(_FILLS)]
            x, y = xy(r + 1, c)
            box(ax, x, y, 1, 1, f"{img[r, c]:g}", role=fill, linewidth=0.6, fontsize=10)

    # the window of one centre: the pixels within S of it, and the whole 2S × 2S square
    accent = COLOURS["accent"]
    r, c = moved[centre]
    inside = window_pixels(img.shape, (r, c), S)
    for rr, cc in zip(*np.nonzero(inside)):
        x, y = xy(rr + 1, cc)
        ax.add_patch(Rectangle((x, y), 1, 1, facecolor=accent, alpha=0.18, edgecolor="none"))
        ax.add_patch(Rectangle((x, y), 1, 1, facecolor="none", edgecolor=accent, hatch="//",
                               linewidth=0, alpha=0.5))
    wx, wy = xy(r + 0.5 + S, c + 0.5 - S)
    ax.add_patch(Rectangle((wx, wy), 2 * S, 2 * S, facecolor="none", edgecolor=accent, linewidth=2.0,
                           linestyle="--", clip_on=False))

    # the grid of interval S: the cells whose middles the centres start from
    n_rows, n_cols = len(np.unique(starts[:, 0])), len(np.unique(starts[:, 1]))
    for i in range(n_rows + 1):
        y = y0 + H - i * H / n_rows
        ax.plot([x0, x0 + W], [y, y], color=COLOURS["line"], linewidth=1.6, linestyle=":")
    for j in range(n_cols + 1):
        x = x0 + j * W / n_cols
        ax.plot([x, x], [y0, y0 + H], color=COLOURS["line"], linewidth=1.6, linestyle=":")
    below = y0 - 0.4
    ax.annotate("", xy=(x0 + W / n_cols, below), xytext=(x0, below),
                arrowprops=dict(arrowstyle="<|-|>", color=COLOURS["line"], linewidth=1.2, shrinkA=0, shrinkB=0))
    label(ax, x0 + W / n_cols / 2, below - 0.35, f"S = {S:g}", fontsize=11)

    # the centres: where they start, and where the move to the lowest gradient puts them
    for k, ((sr, sc), (mr, mc)) in enumerate(zip(starts, moved)):
        start, end = xy(sr + 0.5, sc + 0.5), xy(mr + 0.5, mc + 0.5)
        ax.plot(*start, "o", markersize=24, markerfacecolor="none", markeredgecolor="#777777",
                markeredgewidth=1.2, linestyle="none")
        if (sr, sc) != (mr, mc):
            step = np.subtract(end, start)
            step = step / np.hypot(*step) * 0.36
            arrow(ax, tuple(start + step), tuple(np.subtract(end, step)))
        ax.plot(*end, "o", markersize=21, markerfacecolor="none", linestyle="none",
                markeredgecolor=accent if k == centre else COLOURS["line"], markeredgewidth=2.6)
        label(ax, end[0] + 0.38, end[1] + 0.36, str(k), fontsize=9, fontweight="bold")

    # the legend, in words
    lx = x0 + W + margin
    lines = [
        (f"{H} × {W} pixels, N = {H * W}; K = {len(moved)} centres", None),
        (f"grid interval S = √(N/K) = {S:g}: the dotted cells", None),
        ("thin ring: where a centre starts, the middle of a cell", None),
        ("thick ring: after the move to the lowest gradient", None),
        (f"- -  the 2S × 2S window of centre {centre}", accent),
        (f"shaded: its {int(inside.sum())} pixels, within S of it in row and column", accent),
    ]
    for i, (text, colour) in enumerate(lines):
        label(ax, lx, y0 + H - 0.2 - i * 0.85, text, fontsize=9.5, ha="left", colour=colour)
    ax.set_title(title or "SLIC on the toy: grid, centres and one search window", fontsize=11)
    return fig
