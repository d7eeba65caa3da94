r"""ResNet50 drawn from the network itself: one bottleneck block, and the four stages.

:func:`resnet50_diagram` reads every number it writes from a torchvision
``ResNet`` (by default ``resnet50()`` built **without weights**, so nothing is
downloaded): the kernel sizes, strides and channel counts of a block's three
convolutions and of its projection shortcut, the number of blocks of each
stage, and the grid size after the stem and after each stage, measured by
running a blank image of the weights' crop size through the network. Change
the network and the picture changes with it.

The top row is the whole network: input → stem → ``layer1`` … ``layer4`` →
global average pooling → linear layer; box heights follow the grid size. The
bottom row is the first block of one stage (``layer2`` by default, the block
chapter 02 prints): 1×1 convolution (reduce) → 3×3 convolution → 1×1
convolution (expand), then the sum with the shortcut — a projection in the
first block of a stage, the identity in the others.

>>> fig = resnet50_diagram()
>>> texts = [t.get_text() for t in fig.axes[0].texts]
>>> any("3×3 conv" in t for t in texts)
True
"""

from __future__ import annotations

import math
from collections import OrderedDict

from .draw import COLOURS, arrow, box, canvas, label

__all__ = ["resnet50_diagram"]

STAGES = ("layer1", "layer2", "layer3", "layer4")


def _side(value) -> int:
    """A kernel size or stride stored as a pair such as ``(3, 3)``, as one number."""
    return int(value[0] if isinstance(value, tuple) else value)


def _shapes(net, side: int) -> "OrderedDict[str, tuple]":
    """The output shape (C, h, w) of the stem and of each stage, for a blank ``side``×``side`` image."""
    import torch

    watched = OrderedDict(stem=net.maxpool, **{name: getattr(net, name) for name in STAGES})
    shapes: "OrderedDict[str, tuple]" = OrderedDict()

    def record(name):
        def hook(module, inputs, output):
            shapes[name] = tuple(output.shape[1:])
        return hook

    handles = [module.register_forward_hook(record(name)) for name, module in watched.items()]
    try:
        with torch.no_grad():
            net(torch.zeros(1, 3, side, side))
    finally:
        for handle in handles:
            handle.remove()
    return shapes


def _grid(shape) -> str:
    return f"{shape[1]}×{shape[2]}"


def _conv(conv) -> str:
    k = _side(conv.kernel_size)
    stride = _side(conv.stride)
    return f"{k}×{k} conv" + (f", stride {stride}" if stride != 1 else "")


def _draw_stages(ax, net, shapes, side: int, block_stage: str, top: float) -> dict:
    """The top row; returns the x-range of the stage whose block is drawn below."""
    cols = [("input", f"input\n3 × {side}×{side}", "input", side)]
    stem = shapes["stem"]
    k, s = _side(net.conv1.kernel_size), _side(net.conv1.stride)
    pk, ps = _side(net.maxpool.kernel_size), _side(net.maxpool.stride)
    cols.append(("stem", f"stem\n{k}×{k} conv /{s}\n{pk}×{pk} max-pool /{ps}\n{stem[0]} ch, {_grid(stem)}",
                 "layer", stem[1]))
    for name in STAGES:
        c, h, w = shapes[name]
        n = len(getattr(net, name))
        cols.append((name, f"{name}\n{n} blocks\n{c} ch\n{h}×{w}", "maps", h))
    cols.append(("gap", f"global\naverage\npooling\n{shapes[STAGES[-1]][0]} ch", "neutral", 1))
    cols.append(("fc", f"linear\n{net.fc.in_features}\n→ {net.fc.out_features}\nlogits", "output", 1))

    width, gap, x = 1.62, 0.36, 0.2
    tallest = 2.6
    where = {}
    for i, (name, text, role, grid) in enumerate(cols):
        # Box height follows the logarithm of the grid side: each halving takes off the same step.
        h = max(1.2, 1.2 + (tallest - 1.2) * math.log(grid) / math.log(side))
        y = top - tallest / 2 - h / 2
        edge = dict(edgecolor=COLOURS["accent"], linewidth=2.4) if name == block_stage else {}
        box(ax, x, y, width, h, text, role=role, fontsize=8, **edge)
        where[name] = (x, y, width, h)
        if i:
            arrow(ax, (x - gap, top - tallest / 2), (x, top - tallest / 2))
        x += width + gap
    return where


def _draw_block(ax, net, shapes, block_stage: str, y: float, stage_box) -> None:
    """The bottom row: the first block of ``block_stage``, with its projection shortcut."""
    from matplotlib.patches import Circle

    stage = getattr(net, block_stage)
    block = stage[0]
    previous = STAGES[STAGES.index(block_stage) - 1] if block_stage != STAGES[0] else "stem"
    c_in, grid_in = block.conv1.in_channels, _grid(shapes[previous])
    c_out, grid_out = block.conv3.out_channels, _grid(shapes[block_stage])

    w, h = 2.05, 1.25
    xs = [0.25, 2.85, 5.45, 8.05, 10.65]
    box(ax, xs[0], y, w, h, f"input x\n{c_in} ch, {grid_in}", role="maps", fontsize=8)
    steps = [(block.conv1, "reduce"), (block.conv2, "spatial"), (block.conv3, "expand")]
    for x, (conv, what) in zip(xs[1:4], steps):
        after = "BN" if conv is block.conv3 else "BN, ReLU"
        box(ax, x, y, w, h, f"{_conv(conv)}\n{conv.in_channels} → {conv.out_channels} ch\n+ {after}",
            role="layer", fontsize=8)
        label(ax, x + w / 2, y + h + 0.17, what, fontsize=8, fontstyle="italic")
    for a, b in zip(xs[:4], xs[1:4]):
        arrow(ax, (a + w, y + h / 2), (b, y + h / 2))
    plus = (xs[4] + 0.3, y + h / 2)
    ax.add_patch(Circle(plus, 0.26, facecolor="white", edgecolor=COLOURS["line"], linewidth=1.4))
    label(ax, *plus, "+", fontsize=13)
    arrow(ax, (xs[3] + w, y + h / 2), (plus[0] - 0.26, plus[1]))
    out_x = plus[0] + 0.85
    box(ax, out_x, y, w, h, f"ReLU → output\n{c_out} ch, {grid_out}", role="maps", fontsize=8)
    arrow(ax, (plus[0] + 0.26, plus[1]), (out_x, plus[1]))

    # The shortcut: under the main path, from the input to the sum.
    low = y - 1.45
    ds = block.downsample
    if ds is not None:
        conv = ds[0]
        text = f"projection shortcut: {_conv(conv)}, {conv.in_channels} → {conv.out_channels} ch, + BN"
    else:
        text = "identity shortcut"
    sx = xs[0] + w / 2
    ax.plot([sx, sx], [y, low + 0.3], color=COLOURS["accent"], linewidth=1.6)
    box(ax, xs[1] + 0.4, low, xs[3] + w - xs[1] - 0.8, 0.6, text, role="neutral", fontsize=8,
        edgecolor=COLOURS["accent"], linewidth=1.6)
    ax.plot([sx, xs[1] + 0.4], [low + 0.3, low + 0.3], color=COLOURS["accent"], linewidth=1.6)
    ax.plot([xs[3] + w - 0.4, plus[0]], [low + 0.3, low + 0.3], color=COLOURS["accent"], linewidth=1.6)
    arrow(ax, (plus[0], low + 0.3), (plus[0], plus[1] - 0.26), colour=COLOURS["accent"])

    identity = sum(1 for b in stage if b.downsample is None)
    label(ax, 0.25, y + h + 0.75,
          f"One bottleneck block, the first of {block_stage}'s {len(stage)}: its shortcut is "
          + ("a projection, because the shape changes." if ds is not None else "the identity.")
          + f"\nThe other {identity - (ds is None)} blocks of the stage add x itself (identity shortcut).",
          fontsize=9, ha="left", fontweight="bold", va="bottom")
    # Link the block to its stage in the row above.
    sx0, sy0, sw, _ = stage_box
    ax.plot([sx0 + sw / 2, sx0 + sw / 2], [sy0, y + h + 1.45], color=COLOURS["accent"], linewidth=1.2,
            linestyle="--")


def resnet50_diagram(net=None, *, block_stage: str = "layer2", input_size: int | None = None):
    """Diagram: ResNet50's four stages (top) and the first bottleneck block of one stage (bottom).

    ``net`` is a torchvision ``ResNet`` built from ``Bottleneck`` blocks; by
    default ``torchvision.models.resnet50(weights=None)`` (no download).
    ``block_stage`` names the stage whose first block is drawn (``"layer1"`` …
    ``"layer4"``); ``input_size`` is the side of the square input, by default
    the crop size of torchvision's ResNet50 weights (metadata only). Every
    number in the picture is read from ``net`` or measured by running a blank
    image through it. Returns the matplotlib figure.

    >>> resnet50_diagram(block_stage="layer9")
    Traceback (most recent call last):
    ...
    ValueError: block_stage must be one of ('layer1', 'layer2', 'layer3', 'layer4'), got 'layer9'

    Raises ``ValueError`` for an unknown ``block_stage`` or an ``input_size`` below 32 pixels.
    """
    if block_stage not in STAGES:
        raise ValueError(f"block_stage must be one of {STAGES}, got {block_stage!r}")
    if input_size is not None and input_size < 32:
        raise ValueError(f"input_size must be at least 32 pixels (the network's total stride), got {input_size}")
    if net is None:
        import torchvision

        net = torchvision.models.resnet50(weights=None)
    if input_size is None:
        from ..weights import resnet50_weights

        input_size = int(resnet50_weights().transforms().crop_size[0])
    training = net.training
    try:
        shapes = _shapes(net.eval(), input_size)  # batch normalisation in eval mode: a blank image is fine
    finally:
        net.train(training)

    fig, ax = canvas(15.8, 7.9, scale=0.8)
    top = 7.5
    label(ax, 0.25, top + 0.25, f"The four stages, with the grid size at a {input_size}×{input_size} input",
          fontsize=10, ha="left", fontweight="bold")
    where = _draw_stages(ax, net, shapes, input_size, block_stage, top - 0.1)
    _draw_block(ax, net, shapes, block_stage, 1.75, where[block_stage])
    return fig
