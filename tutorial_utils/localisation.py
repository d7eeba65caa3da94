r"""Weakly supervised localisation: a bounding box from a class activation map, and how well it fits.

The CAM paper's headline use (Zhou et al., CVPR 2016): a network trained with image
labels only still says where the object is. :func:`cam_box` keeps the pixels where the
map reaches 20 % of its maximum and boxes the largest connected component;
:func:`box_iou` scores a box; :func:`centre_box` is the baseline that never looks.
A box is ``(row0, col0, row1, col1)``, ends exclusive: ``image[row0:row1, col0:col1]``.

>>> M = np.zeros((6, 8))
>>> M[1:3, 2:5] = 1.0
>>> cam_box(M), box_iou((1, 2, 3, 5), (1, 2, 3, 8))
((1, 2, 3, 5), 0.5)
"""

from __future__ import annotations

import numbers

import numpy as np
from skimage.measure import label, regionprops

from .checks import as_map_array, number_in, positive_int

__all__ = ["box_iou", "cam_box", "centre_box"]


def _as_box(box, name: str) -> tuple:
    """``box`` as four finite numbers ``(row0, col0, row1, col1)`` with ``row0 < row1``, ``col0 < col1``."""
    try:
        values = tuple(box.tolist() if hasattr(box, "tolist") else box)
    except TypeError:
        values = ()
    numbers_ok = all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and np.isfinite(v)
                     for v in values)
    if len(values) != 4 or not numbers_ok or not (values[0] < values[2] and values[1] < values[3]):
        raise ValueError(f"{name} must be a box (row0, col0, row1, col1) of four numbers with row0 < row1 and "
                         f"col0 < col1 (ends exclusive, like regionprops' bbox), got {box!r}")
    return values


def cam_box(cam, threshold: float = 0.2, *, connectivity: int = 2) -> tuple[int, int, int, int]:
    r"""The CAM paper's box: around the largest region where the map reaches ``threshold`` of its maximum.

    .. math:: R = \{(x, y) : M_c(x, y) \ge t \cdot \max M_c\}, \qquad t = 0.2 \text{ by default},

    split into connected regions by ``skimage.measure.label`` (``connectivity=2``:
    diagonal neighbours join; ``1``: they do not). The largest region (the first
    in raster order on a tie) gives the box, whether or not it holds the maximum.
    Pass ``upsample(cam, image)`` to get the box in the image's pixels.

    >>> M = np.zeros((5, 7))
    >>> M[0, 0] = 10.0            # the brightest pixel, alone
    >>> M[2:5, 3:7] = 3.0         # a larger region above 20 % of the maximum
    >>> cam_box(M)
    (2, 3, 5, 7)

    Raises ``ValueError`` for a map that is not 2-D, holds NaN, or has no positive
    value (no evidence to box), a ``threshold`` outside ``[0, 1]``, a ``connectivity``
    other than 1 or 2; ``TypeError`` for something that is not a map of numbers.
    """
    m = as_map_array(cam, "cam")
    if m.ndim != 2:
        raise ValueError(f"cam must be one map of shape (h, w), got {m.shape}; box the maps one at a time")
    t = number_in(threshold, "threshold", 0, 1)
    if isinstance(connectivity, (bool, np.bool_)) or not isinstance(connectivity, numbers.Integral) \
            or connectivity not in (1, 2):
        raise ValueError(f"connectivity must be 1 (4-connected) or 2 (8-connected), got {connectivity!r}")
    if m.max() <= 0:
        raise ValueError(f"cam has no positive value (its maximum is {m.max():.3g}): there is no evidence to box")
    kept = m >= t * m.max()                                      # R: at least t of the maximum
    largest = max(regionprops(label(kept, connectivity=int(connectivity))), key=lambda region: region.area)
    return tuple(int(v) for v in largest.bbox)


def box_iou(a, b) -> float:
    r"""Intersection over union of two boxes: :math:`\mathrm{IoU}(A, B) = |A \cap B| \,/\, |A \cup B|`.

    1 for the same box, 0 for boxes that do not overlap; benchmarks count a box
    as correct when :math:`\mathrm{IoU} \ge 0.5`.

    >>> box_iou((0, 0, 4, 4), (2, 2, 6, 6))   # 4 pixels shared, 16 + 16 - 4 in all
    0.14285714285714285

    Raises ``ValueError`` naming ``a`` or ``b`` for something that is not a box.
    """
    a, b = _as_box(a, "a"), _as_box(b, "b")
    rows = max(0, min(a[2], b[2]) - max(a[0], b[0]))             # the overlap's height ...
    cols = max(0, min(a[3], b[3]) - max(a[1], b[1]))             # ... and width
    intersection = rows * cols
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return float(intersection / (area_a + area_b - intersection))


def centre_box(shape, fraction: float) -> tuple[int, int, int, int]:
    r"""A centred box of :math:`\mathrm{round}(fH) \times \mathrm{round}(fW)` pixels in an image of ``shape`` (H, W).

    Each side is at least one pixel; the box covers about :math:`f^2` of the image:
    the baseline of weakly supervised localisation, a guess that never looks at the image.

    >>> centre_box((100, 60), 0.5)
    (25, 15, 75, 45)

    Raises ``ValueError`` for a ``shape`` that is not two positive integers or a ``fraction`` outside ``(0, 1]``.
    """
    try:
        height, width = (positive_int(v, "shape") for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (H, W), two positive integers, got {shape!r}") from None
    f = number_in(fraction, "fraction", 0, 1, above=True)
    rows, cols = max(1, round(f * height)), max(1, round(f * width))
    row0, col0 = (height - rows) // 2, (width - cols) // 2
    return row0, col0, row0 + rows, col0 + cols
