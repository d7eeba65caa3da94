"""Drawing primitives for the book's diagrams: boxes, arrows and labels on one blank matplotlib axes.

Every diagram is drawn in data units on an axes with equal aspect and no
frame (:func:`canvas`), so a box of width 2 is twice as wide as one of width 1
whatever the figure size. The colours are the colour-blind-safe Okabe–Ito
palette (:data:`COLOURS`), and every label is dark text on a pale fill.

>>> fig, ax = canvas(6, 2)
>>> box(ax, 0.5, 0.5, 2, 1, "trunk").get_width()
2
>>> arrow(ax, (2.5, 1), (3.5, 1), "f")
"""

from __future__ import annotations

__all__ = ["COLOURS", "arrow", "box", "canvas", "grid", "label"]

#: Okabe–Ito colours, lightened for fills, by role.
COLOURS = {
    "input": "#CCE3F1",     # pale blue
    "layer": "#F3DFC0",     # pale orange
    "maps": "#FBE3B0",      # pale yellow
    "weights": "#D6EDE4",   # pale bluish green
    "output": "#F1D3E3",    # pale reddish purple
    "neutral": "#EEEEEE",
    "line": "#333333",
    "accent": "#D55E00",    # vermillion, for the branch a diagram is about
}


def canvas(width: float, height: float, *, scale: float = 1.6):
    """A new figure with one frameless axes spanning ``[0, width] × [0, height]`` in data units.

    ``scale`` is inches per data unit. Returns ``(fig, ax)``.
    """
    import matplotlib.pyplot as plt

    if width <= 0 or height <= 0:
        raise ValueError(f"width and height must be positive, got {width} and {height}")
    fig, ax = plt.subplots(figsize=(width * scale, height * scale))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def box(ax, x: float, y: float, w: float, h: float, text: str = "", *, role: str = "layer",
        fontsize: float = 10, **kwargs):
    """A rounded box with its lower-left corner at ``(x, y)``, filled by ``role`` (a key of :data:`COLOURS`), text centred."""
    from matplotlib.patches import FancyBboxPatch

    if role not in COLOURS:
        raise ValueError(f"role must be one of {sorted(COLOURS)}, got {role!r}")
    patch = FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                           facecolor=COLOURS[role], edgecolor=kwargs.pop("edgecolor", COLOURS["line"]),
                           linewidth=kwargs.pop("linewidth", 1.2), **kwargs)
    ax.add_patch(patch)
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, color="#111111")
    return patch


def arrow(ax, start, end, text: str = "", *, colour: str | None = None, fontsize: float = 9,
          offset: float = 0.12, **kwargs):
    """An arrow from ``start`` to ``end`` (data units), with ``text`` written just above its middle."""
    colour = colour or COLOURS["line"]
    ax.annotate("", xy=end, xytext=start,
                arrowprops=dict(arrowstyle="-|>", color=colour, linewidth=1.4, shrinkA=0, shrinkB=0, **kwargs))
    if text:
        label(ax, (start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + offset, text, fontsize=fontsize,
              colour=colour)


def label(ax, x: float, y: float, text: str, *, fontsize: float = 9, colour: str | None = None, **kwargs):
    """Plain text centred at ``(x, y)``."""
    return ax.text(x, y, text, ha=kwargs.pop("ha", "center"), va=kwargs.pop("va", "center"),
                   fontsize=fontsize, color=colour or "#111111", **kwargs)


def grid(ax, x: float, y: float, size: float, h: int, w: int, *, role: str, edgecolor: str | None = None,
         lines: bool = True):
    """An ``h × w`` grid of square cells centred in a square of side ``size`` at ``(x, y)``; returns its extent.

    Cell lines are drawn only when ``lines`` and at most 32 cells a side (finer grids would be a grey smear).
    """
    from matplotlib.patches import Rectangle

    cell = size / max(h, w)
    gw, gh = cell * w, cell * h
    x0, y0 = x + (size - gw) / 2, y + (size - gh) / 2
    ax.add_patch(Rectangle((x0, y0), gw, gh, facecolor=COLOURS[role],
                           edgecolor=edgecolor or COLOURS["line"], linewidth=1.2))
    if lines and max(h, w) <= 32:
        for i in range(1, w):
            ax.plot([x0 + i * cell] * 2, [y0, y0 + gh], color=COLOURS["line"], linewidth=0.4)
        for j in range(1, h):
            ax.plot([x0, x0 + gw], [y0 + j * cell] * 2, color=COLOURS["line"], linewidth=0.4)
    return x0, y0, gw, gh
