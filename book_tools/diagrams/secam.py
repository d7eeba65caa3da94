r"""The SeCAM pipeline as a diagram, drawn with the sizes of the network and the image it is given.

Two branches leave the image. Above, SLIC cuts it into superpixels at full
resolution. Below, the network computes :math:`K` feature maps on its
:math:`h \times w` grid, CAM weighs them into :math:`M_c`, and ``upsample``
brings :math:`M_c` to the image's :math:`H \times W`. The branches meet in the
mean inside each superpixel, :math:`\bar M_c(s) = \frac{1}{|s|}\sum_{(x,y) \in s} M_c(x, y)`,
the SeCAM map, which a threshold or a top-:math:`k` choice turns into a mask.
A dashed arrow marks the grid route (the superpixel means straight from the
grid, :math:`P\,M_c`).

>>> from book_tools.model_facts import resnet50_facts
>>> fig = secam_pipeline_diagram(resnet50_facts(), image_size=(400, 600), n_superpixels=100)
>>> any("2,048" in t.get_text() for t in fig.axes[0].texts)
True
"""

from __future__ import annotations

from ..model_facts import network_facts
from .draw import COLOURS, arrow, box, canvas, grid, label

__all__ = ["secam_pipeline_diagram"]


def secam_pipeline_diagram(model, *, image_size, n_superpixels: int, image=None, segments=None):
    r"""Draw image → SLIC superpixels and image → network → CAM → upsampled CAM, meeting in SeCAM and a mask.

    ``model`` is a :class:`~tutorial_utils.models.CamModel` (as from
    :func:`~tutorial_utils.load_model`) or
    :class:`~book_tools.model_facts.NetworkFacts`: the number of channels
    :math:`K`, the grid :math:`h \times w` and the network's input size are read
    from it. ``image_size`` is the image's ``(H, W)`` and ``n_superpixels``
    the number of superpixels SLIC returned. ``image`` (RGB) and ``segments``
    (its labels), if given, are drawn in place of plain boxes.

    Returns the matplotlib figure. Raises ``TypeError`` for another kind of
    ``model`` and ``ValueError`` for a non-positive size or count.
    """
    facts = network_facts(model)
    name, K, (h, w), (h_in, w_in) = facts.name, facts.channels, facts.grid, facts.input_size
    H, W = (int(v) for v in image_size)
    if H <= 0 or W <= 0 or int(n_superpixels) <= 0:
        raise ValueError(f"image_size and n_superpixels must be positive, got {image_size} and {n_superpixels}")
    accent, s = COLOURS["accent"], 1.3
    width, height = 15.4, 5.4
    fig, ax = canvas(width, height, scale=0.8)
    up, low = 3.35, 0.75  # lower edges of the two rows
    mid_up, mid_low = up + s / 2, low + s / 2

    def picture(x, y, array, text, role, **kw):
        if array is None:
            box(ax, x, y, s, s, text, role=role, fontsize=9)
        else:
            ax.imshow(array, extent=(x, x + s, y, y + s * min(1.0, array.shape[0] / array.shape[1])),
                      zorder=2, **kw)

    # the image, between the two rows
    yi = (up + low + s) / 2 - s / 2
    picture(0.2, yi, image, "image", "input")
    drawn_h = s if image is None else s * min(1.0, image.shape[0] / image.shape[1])
    label(ax, 0.2 + s / 2, yi + drawn_h + 0.25, f"image {H} × {W} × 3", fontsize=9)

    # above: SLIC on the same RGB image, at full resolution
    arrow(ax, (1.55, yi + drawn_h * 0.75), (8.0, mid_up), "SLIC on the same RGB image", fontsize=9, offset=0.2)
    if segments is not None:
        from skimage.segmentation import find_boundaries

        picture(8.0, up, find_boundaries(segments), "", "maps", cmap="Greys")
    else:
        box(ax, 8.0, up, s, s, "superpixels", role="maps", fontsize=9)
    label(ax, 8.0 + s / 2, up + s + 0.25, f"{int(n_superpixels)} superpixels, {H} × {W}", fontsize=9)

    # below: the network, CAM on its grid, and upsampling
    arrow(ax, (1.55, yi + drawn_h * 0.25), (2.3, mid_low))
    box(ax, 2.3, low + 0.2, 1.5, s - 0.4, "trunk", role="layer", fontsize=9)
    label(ax, 3.05, low + 0.05, f"{name}\ninput {h_in} × {w_in}", fontsize=8, va="top")
    arrow(ax, (3.8, mid_low), (4.2, mid_low))
    for i in range(3, -1, -1):
        grid(ax, 4.2 + 0.1 * i, low + 0.1 * i - 0.15, 1.05, h, w, role="maps")
    label(ax, 4.95, low - 0.62, f"K = {K:,} maps, {h} × {w}", fontsize=9)
    arrow(ax, (5.65, mid_low), (6.25, mid_low))
    label(ax, 5.95, mid_low + 0.95, "$\\sum_k w_k^c f_k$", fontsize=10)
    grid(ax, 6.25, low + 0.15, 1.0, h, w, role="output")
    label(ax, 6.75, low - 0.1, f"$M_c$: {h} × {w}", fontsize=9)
    arrow(ax, (7.3, mid_low), (8.0, mid_low))
    label(ax, 7.65, mid_low - 0.4, "up-\nsample", fontsize=8.5)
    box(ax, 8.0, low, s, s, "$M_c$\nfull size", role="output", fontsize=9)
    label(ax, 8.0 + s / 2, low - 0.3, f"{H} × {W}", fontsize=9)

    # where they meet: the mean inside each superpixel, then a mask
    arrow(ax, (9.35, mid_up), (10.2, (mid_up + mid_low) / 2 + 0.3), colour=accent)
    arrow(ax, (9.35, mid_low), (10.2, (mid_up + mid_low) / 2 - 0.3), colour=accent)
    yc = (mid_up + mid_low) / 2 - s / 2
    box(ax, 10.2, yc, 2.0, s, "mean of $M_c$\ninside each\nsuperpixel", role="weights", edgecolor=accent,
        linewidth=1.8, fontsize=9)
    label(ax, 11.2, yc + s + 0.3, f"SeCAM: {int(n_superpixels)} values,\npainted {H} × {W}", fontsize=9,
          colour=accent)
    arrow(ax, (12.2, yc + s / 2), (13.7, yc + s / 2))
    label(ax, 12.95, yc + s / 2 + 0.4, "threshold t\nor top k", fontsize=8.5)
    box(ax, 13.7, yc, s, s, "mask of\nwhole\nsuper-\npixels", role="output", fontsize=8.5)

    # the grid route: the same means straight from the grid
    arrow(ax, (6.75, low + 1.2), (10.2, yc + 0.15), colour=accent, linestyle="--")
    label(ax, 6.4, 2.62, "or the means straight from the grid: $P\\,M_c$", fontsize=8.5, colour=accent,
          ha="left")
    ax.set_title(f"The SeCAM pipeline with the sizes of {name} and this image", fontsize=11)
    return fig
