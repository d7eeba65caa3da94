r"""The CAM pipeline as a diagram, drawn with the sizes of the network it is given.

The top row is what the network computes: image → trunk → :math:`K` feature
maps :math:`f_k` (:math:`h \times w` each) → global average pooling →
:math:`F_k` → the linear layer (weights :math:`w_k^c`) → the logits
:math:`S_c`. The branch below (in the accent colour) is CAM: the *same*
weights applied to the maps at every cell give :math:`M_c = \sum_k w_k^c f_k`,
whose mean plus :math:`b_c` is the logit.

>>> from book_tools import resnet50_facts
>>> fig = cam_pipeline_diagram(resnet50_facts())
>>> any("2,048" in t.get_text() for t in fig.axes[0].texts)
True
"""

from __future__ import annotations

from ..model_facts import network_facts
from .draw import COLOURS, arrow, box, canvas, grid, label

__all__ = ["cam_pipeline_diagram"]


def _column(ax, x, y, width, height, n_drawn, *, role):
    """A vector drawn as a column of ``n_drawn`` cells (a picture of K or classes numbers)."""
    step = height / n_drawn
    for i in range(n_drawn):
        box(ax, x, y + i * step, width, step, role=role, linewidth=0.8)


def cam_pipeline_diagram(model, *, image=None, input_size=None):
    r"""Draw image → trunk → K feature maps → GAP → FC → logits, and CAM's branch :math:`M_c`, with ``model``'s sizes.

    ``model`` is a :class:`~tutorial_utils.models.CamModel` (as from
    :func:`~tutorial_utils.load_model`), a
    :class:`~tutorial_utils.models.GapLinearHead` such as a
    :class:`~tutorial_utils.smallnets.SmallCamNet` (then ``input_size=(H, W)``
    is needed), or :class:`~book_tools.model_facts.NetworkFacts`. The number of
    channels :math:`K`, the grid :math:`h \times w`, the input size and the
    number of classes are read from it, never typed; the feature maps and
    :math:`M_c` are drawn with :math:`h \times w` cells. ``image`` (an RGB
    array), if given, is drawn as the input. The diagram states

    .. math::

        S_c = \sum_k w_k^c F_k + b_c, \qquad M_c(x, y) = \sum_k w_k^c f_k(x, y),
        \qquad S_c = \frac{1}{hw}\sum_{x,y} M_c(x, y) + b_c .

    Returns the matplotlib figure.

    >>> import torch.nn as nn
    >>> from tutorial_utils.models import GapLinearHead
    >>> net = GapLinearHead(nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1)), nn.Linear(4, 3))
    >>> fig = cam_pipeline_diagram(net, input_size=(16, 16))
    >>> any("8 × 8" in t.get_text() for t in fig.axes[0].texts)
    True

    Raises ``TypeError`` for any other ``model`` and ``ValueError`` when a
    :class:`GapLinearHead` comes without ``input_size``.
    """
    facts = network_facts(model, input_size)
    name, K, (h, w), (H, W), classes = facts.name, facts.channels, facts.grid, facts.input_size, facts.classes
    accent = COLOURS["accent"]
    width, height = 13.0, 5.6
    fig, ax = canvas(width, height, scale=0.85)
    top, s = 2.9, 1.5  # the main row: lower edge and the side of the big squares
    mid = top + s / 2

    # what the network computes: the main row
    if image is not None:
        ax.imshow(image, extent=(0.1, 0.1 + s, top, top + s), zorder=2)
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
    else:
        box(ax, 0.1, top, s, s, "image", role="input")
    label(ax, 0.1 + s / 2, top - 0.3, f"input {H} × {W}", fontsize=9)
    arrow(ax, (1.7, mid), (2.1, mid))
    box(ax, 2.1, top + 0.35, 1.3, s - 0.7, "trunk", role="layer")
    label(ax, 2.75, top + 0.1, "convolutions", fontsize=8)
    arrow(ax, (3.4, mid), (3.9, mid))
    for i in range(4, -1, -1):  # a stack of maps, the front one with its h × w cells
        grid(ax, 3.9 + 0.12 * i, top + 0.12 * i - 0.2, 1.3, h, w, role="maps", lines=(i == 0))
    label(ax, 4.75, top + s + 0.3, f"K = {K:,} feature maps $f_k$", fontsize=10)
    label(ax, 4.55, top - 0.45, f"each h × w = {h} × {w}", fontsize=9)
    arrow(ax, (5.85, mid), (6.25, mid))
    box(ax, 6.25, top + 0.4, 0.9, s - 0.8, "GAP", role="layer")
    label(ax, 6.7, top + 0.15, "mean of\neach map", fontsize=8, va="top")
    arrow(ax, (7.15, mid), (7.5, mid))
    _column(ax, 7.5, top - 0.1, 0.28, s + 0.2, 8, role="maps")
    label(ax, 7.64, top + s + 0.3, f"$F_k$: {K:,}", fontsize=10)
    arrow(ax, (7.78, mid), (8.15, mid))
    box(ax, 8.15, top + 0.25, 1.75, s - 0.5, f"FC: $w_k^c$, $b_c$\n{classes:,} × {K:,}", role="weights",
        fontsize=9)
    arrow(ax, (9.9, mid), (10.3, mid))
    _column(ax, 10.3, top - 0.1, 0.28, s + 0.2, 10, role="output")
    label(ax, 10.75, mid + 0.22, "logits $S_c$", fontsize=10, ha="left")
    label(ax, 10.75, mid - 0.22, f"{classes:,} classes", fontsize=9, ha="left")
    label(ax, width / 2, height - 0.35, "$S_c = \\sum_k w_k^c F_k + b_c$: what the network computes (top); "
          "CAM's branch (below) moves the sum over $k$ before the mean", fontsize=10)

    # CAM's branch: the same weights, applied at every cell
    low = 0.3
    arrow(ax, (4.55, top - 0.65), (4.55, low + 1.1), colour=accent)
    box(ax, 2.85, low, 3.4, 1.1, "$\\sum_k w_k^c f_k(x, y)$\nthe same weights, at every cell",
        role="weights", edgecolor=accent, linewidth=1.8, fontsize=9)
    arrow(ax, (8.9, top + 0.25), (5.9, low + 1.1), colour=accent, linestyle="--")
    label(ax, 7.9, 2.2, "the same $w_k^c$", fontsize=9, colour=accent, ha="left")
    arrow(ax, (6.25, low + 0.55), (6.6, low + 0.55), colour=accent)
    grid(ax, 6.6, low - 0.1, 1.3, h, w, role="output", edgecolor=accent)
    label(ax, 8.05, low + 0.8, f"$M_c$: {h} × {w}", fontsize=10, colour=accent, ha="left")
    label(ax, 8.05, low + 0.35, "one map per class", fontsize=9, colour=accent, ha="left")
    arrow(ax, (9.6, low + 0.55), (10.44, low + 0.55), colour=accent)
    arrow(ax, (10.44, low + 0.55), (10.44, top - 0.15), colour=accent)
    label(ax, 10.7, low + 0.55, "mean of $M_c$ + $b_c$\n= $S_c$, exactly", fontsize=10, colour=accent, ha="left")
    ax.set_title(f"The CAM pipeline with the sizes of {name}", fontsize=11)
    return fig
