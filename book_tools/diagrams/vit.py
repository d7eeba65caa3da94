r"""A vision transformer as a diagram, drawn with the sizes of the network it is given.

Image → :math:`h \times w` patches → tokens (the class token first) → the encoder
blocks → the head, which reads the class token only. The patch tokens' outputs are
drawn greyed: no logit reads them, so there is no map :math:`M_c` whose mean is
:math:`S_c` (chapter 08b).

>>> from tutorial_utils import TinyViT
>>> fig = vit_diagram(TinyViT(n_classes=2, image_size=32, patch=4, dim=16, depth=2, heads=2))
>>> any("8 × 8" in t.get_text() for t in fig.axes[0].texts)
True
"""

from __future__ import annotations

from .draw import COLOURS, arrow, box, canvas, grid, label

__all__ = ["vit_diagram"]


def vit_diagram(net, *, image=None):
    r"""Draw patches → tokens → encoder blocks → class token → head, with ``net``'s sizes.

    ``net`` is a :class:`~tutorial_utils.vit.TinyViT`: the grid :math:`h \times w`, the patch
    size, the token width ``dim``, the number of blocks and heads and of classes are read
    from it. ``image`` (an RGB array), if given, is drawn under the patch grid.
    Returns the matplotlib figure.

    Raises ``TypeError`` for anything without a TinyViT's ``grid``, ``blocks`` and ``head``.
    """
    if not all(hasattr(net, a) for a in ("grid", "blocks", "head", "cls_token", "patch_embed")):
        raise TypeError(f"net must be a TinyViT (grid, patch_embed, cls_token, blocks, head), got {type(net).__name__}")
    (h, w), dim = net.grid, net.cls_token.shape[-1]
    depth, heads = len(net.blocks), net.blocks[0].attn.heads
    patch, classes = net.patch_embed.kernel_size[0], net.head.out_features
    accent, grey = COLOURS["accent"], COLOURS["neutral"]
    fig, ax = canvas(13.0, 4.0, scale=0.85)
    s, y0 = 2.0, 0.7
    if image is not None:
        ax.imshow(image, extent=(0.2, 0.2 + s, y0, y0 + s), zorder=1, alpha=0.85)
        ax.set_xlim(0, 13.0)
        ax.set_ylim(0, 4.0)
    x0, _, gw, _ = grid(ax, 0.2, y0, s, h, w, role="input")
    if image is not None:
        ax.patches[-1].set_alpha(0.25)
    label(ax, 0.2 + s / 2, y0 - 0.3, f"{h} × {w} patches of {patch} × {patch} pixels", fontsize=9)
    arrow(ax, (2.35, y0 + s / 2), (3.05, y0 + s / 2), "embed", fontsize=8)
    # the tokens in: the class token first, then the patches row by row
    tx, ty, tw, th = 3.15, y0 + 0.35, 0.32, 1.3
    box(ax, tx, ty, tw, th, role="output", edgecolor=accent, linewidth=2)
    for i in range(5):
        box(ax, tx + (i + 1) * (tw + 0.06), ty, tw, th, role="maps", linewidth=0.8)
    label(ax, tx + tw / 2, ty + th + 0.22, "class", fontsize=8, colour=accent)
    label(ax, tx + 3.5 * (tw + 0.06), ty + th + 0.22, f"{h * w} patch tokens …", fontsize=8)
    label(ax, tx + 3 * (tw + 0.06), ty - 0.3, f"{1 + h * w} tokens of {dim} numbers", fontsize=9)
    arrow(ax, (5.45, y0 + s / 2), (5.75, y0 + s / 2))
    box(ax, 5.75, y0 + 0.1, 2.6, 1.8, f"{depth} encoder blocks,\n{heads} heads of self-attention:\n"
                                       "every token reads\nevery token", role="layer", fontsize=8.5)
    arrow(ax, (8.35, y0 + s / 2), (8.6, y0 + s / 2))
    ox = 8.65
    box(ax, ox, ty, tw, th, role="output", edgecolor=accent, linewidth=2)
    for i in range(5):
        box(ax, ox + (i + 1) * (tw + 0.06), ty, tw, th, role="neutral", linewidth=0.6)
    label(ax, ox + 3.5 * (tw + 0.06), ty - 0.3, "patch outputs: no logit reads them", fontsize=8, colour="#666666")
    # the head reads the class token only
    ax.plot([ox + tw / 2] * 2, [ty + th, 3.3], color=accent, linewidth=1.4)
    arrow(ax, (ox + tw / 2, 3.3), (ox + 0.7, 3.3), colour=accent)
    box(ax, ox + 0.7, 3.0, 3.5, 0.6, f"LayerNorm → head → {classes} logits $S_c$", role="weights", fontsize=8.5)
    label(ax, 4.4, 3.55, r"$S_c = w_c \cdot \mathrm{LN}(z_{\mathrm{class}}) + b_c$: no grid, no average over cells",
          fontsize=10, colour=accent)
    return fig
