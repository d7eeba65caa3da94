r"""Generated scenes of simple shapes, with a label for every pixel.

The segmentation chapter draws its own labelled photos: discs, squares and triangles of
random size, position and colour on a textured background. Colour never tells the class —
only the outline does — so a network must learn shapes.

>>> image, labels = shapes_scene(0)
>>> image.shape, image.dtype, labels.shape
((64, 64, 3), dtype('uint8'), (64, 64))
>>> sorted(set(labels.ravel()) - {0}) <= [1, 2, 3]
True
"""

from __future__ import annotations

import numpy as np
from skimage.draw import disk, polygon

from .checks import as_rng, int_at_least, positive_int

__all__ = ["SHAPE_CLASSES", "shapes_dataset", "shapes_scene"]

#: Label ``i`` of a pixel means ``SHAPE_CLASSES[i]``.
SHAPE_CLASSES = ("background", "disc", "square", "triangle")


def _shape_counts(shapes) -> tuple[int, int]:
    try:
        low, high = (int(v) for v in shapes)
    except (TypeError, ValueError):
        raise ValueError(f"shapes must be (min, max) counts, got {shapes!r}") from None
    if not 1 <= low <= high <= 8:
        raise ValueError(f"shapes must satisfy 1 ≤ min ≤ max ≤ 8, got {shapes!r}")
    return low, high


def shapes_scene(seed=0, *, size: int = 64, shapes: tuple[int, int] = (1, 3), kinds=None):
    """One scene: RGB ``uint8`` ``size×size×3`` and labels ``int64`` ``size×size``.

    ``seed`` is an int or a ``numpy.random.Generator`` (pass one generator to
    draw many different scenes). ``shapes`` is the (min, max) number of shapes;
    ``kinds`` optionally fixes their classes, e.g. ``[1, 1]`` for two discs.
    Shapes drawn later cover earlier ones, and the labels say what is visible.

    Raises ``TypeError``/``ValueError`` for a bad seed, size, count or kind.
    """
    rng = as_rng(seed)
    size = int_at_least(size, "size", 32)
    low, high = _shape_counts(shapes)
    if kinds is None:
        kinds = rng.integers(1, len(SHAPE_CLASSES), size=rng.integers(low, high + 1))
    kinds = [int(k) for k in kinds]
    if not kinds or any(not 1 <= k < len(SHAPE_CLASSES) for k in kinds):
        raise ValueError(f"kinds must be a non-empty list of labels 1..{len(SHAPE_CLASSES) - 1}, got {kinds}")

    # Background: a random colour, a gentle gradient and pixel noise.
    base = rng.uniform(0.15, 0.85, size=3)
    ramp = np.linspace(-0.1, 0.1, size)[None, :, None] * rng.choice([-1, 1])
    image = np.clip(base + ramp + rng.normal(0, 0.05, (size, size, 3)), 0, 1)
    labels = np.zeros((size, size), dtype=np.int64)

    for kind in kinds:
        r = rng.uniform(0.09, 0.2) * size  # half the shape's extent
        cy, cx = rng.uniform(r, size - r, size=2)
        if kind == 1:
            rows, cols = disk((cy, cx), r, shape=(size, size))
        elif kind == 2:
            half = r * 0.9
            rows, cols = polygon([cy - half, cy - half, cy + half, cy + half],
                                 [cx - half, cx + half, cx + half, cx - half], shape=(size, size))
        else:
            angles = rng.uniform(0, 2 * np.pi) + np.array([0, 2, 4]) * np.pi / 3
            rows, cols = polygon(cy + r * 1.2 * np.sin(angles), cx + r * 1.2 * np.cos(angles),
                                 shape=(size, size))
        # A colour far enough from the background to be visible, else random.
        colour = rng.uniform(0, 1, size=3)
        while np.abs(colour - base).sum() < 0.6:
            colour = rng.uniform(0, 1, size=3)
        image[rows, cols] = np.clip(colour + rng.normal(0, 0.05, (len(rows), 3)), 0, 1)
        labels[rows, cols] = kind
    return np.round(image * 255).astype(np.uint8), labels


def shapes_dataset(n: int, seed=0, *, size: int = 64, shapes: tuple[int, int] = (1, 3)):
    """``n`` scenes from one generator: images ``n×size×size×3`` ``uint8``, labels ``n×size×size``.

    The same ``seed`` always gives the same data set.
    """
    rng = as_rng(seed)
    scenes = [shapes_scene(rng, size=size, shapes=shapes) for _ in range(positive_int(n, "n"))]
    return np.stack([s[0] for s in scenes]), np.stack([s[1] for s in scenes])
