r"""Weakly supervised localisation: a bounding box from a class activation map, and how well it fits.

The CAM paper's headline use (Zhou et al., CVPR 2016): a network trained with
image labels only — never a box — still says where the object is. Keep the
pixels where the map reaches 20 % of its maximum, take the largest connected
component, and draw its bounding box:

* :func:`cam_box` — the box of a map;
* :func:`box_iou` — intersection over union of two boxes, the usual score of a box;
* :func:`centre_box` — a box in the middle of the image, the baseline that never looks at it.

A box is ``(row0, col0, row1, col1)`` with exclusive ends, like
``skimage.measure.regionprops(...).bbox`` and like slicing:
``image[row0:row1, col0:col1]`` is what the box holds.

>>> M = np.zeros((6, 8))
>>> M[1:3, 2:5] = 1.0
>>> cam_box(M)
(1, 2, 3, 5)
>>> box_iou((1, 2, 3, 5), (1, 2, 3, 8))
0.5
"""

from __future__ import annotations

import numbers

import numpy as np
from skimage.measure import label, regionprops

from .checks import as_map_array, positive_int

__all__ = ["box_iou", "cam_box", "centre_box"]


def _fraction(value, name: str, *, low_open: bool) -> float:
    """``value`` as a float in [0, 1] (or (0, 1] with ``low_open``); else a ``ValueError`` naming ``name``."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and np.isfinite(value)
    if not ok or not (0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0):
        interval = "(0, 1]" if low_open else "[0, 1]"
        raise ValueError(f"{name} must be a number in {interval}, got {value!r}")
    return float(value)


def _as_box(box, name: str) -> tuple:
    """``box`` as a tuple of four finite numbers ``(row0, col0, row1, col1)`` with ``row0 < row1``, ``col0 < col1``."""
    try:
        values = tuple(box.tolist() if hasattr(box, "tolist") else box)
    except TypeError:
        values = ()
    if (len(values) != 4
            or not all(isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) and np.isfinite(v)
                       for v in values)
            or not (values[0] < values[2] and values[1] < values[3])):
        raise ValueError(f"{name} must be a box (row0, col0, row1, col1) of four numbers with row0 < row1 and "
                         f"col0 < col1 (ends exclusive, like regionprops' bbox), got {box!r}")
    return values


def cam_box(cam, threshold: float = 0.2, *, connectivity: int = 2) -> tuple[int, int, int, int]:
    r"""The CAM paper's box: the bounding box of the largest region where the map reaches ``threshold`` of its maximum.

    The kept pixels are

    .. math::

        R = \{(x, y) : M_c(x, y) \ge t \cdot \max_{x', y'} M_c(x', y')\}, \qquad t = 0.2 \text{ by default},

    split into connected regions with ``skimage.measure.label`` (``connectivity=2``:
    8-connected, diagonal neighbours join; ``1``: 4-connected). The largest region
    — the most pixels, the first in ``label``'s raster order on a tie — gives the
    box, as ``regionprops`` reports it: ``(row0, col0, row1, col1)``, ends
    exclusive. It need not be the region that holds the map's maximum: a large
    region of fairly strong evidence wins over a small, very bright spot.
    Pass the map upsampled to the image (``upsample(cam, image)``) to get the box
    in the image's pixels. A constant positive map keeps every pixel: its box is
    the whole map.

    >>> M = np.zeros((5, 7))
    >>> M[0, 0] = 10.0            # the brightest pixel, alone
    >>> M[2:5, 3:7] = 3.0         # a larger region above 20 % of the maximum
    >>> cam_box(M)
    (2, 3, 5, 7)

    Raises ``ValueError`` for a map that is not 2-D, holds NaN or infinity, or has
    no positive value (no evidence to box: is it the map of the class you meant?);
    for ``threshold`` outside ``[0, 1]`` or ``connectivity`` other than 1 or 2.
    ``TypeError`` for something that is not an array or tensor of numbers.
    """
    m = as_map_array(cam, "cam")
    if m.ndim != 2:
        raise ValueError(f"cam must be one map of shape (h, w), got {m.shape}; box the maps one at a time")
    t = _fraction(threshold, "threshold", low_open=False)
    if isinstance(connectivity, (bool, np.bool_)) or not isinstance(connectivity, numbers.Integral) \
            or connectivity not in (1, 2):
        raise ValueError(f"connectivity must be 1 (4-connected) or 2 (8-connected), got {connectivity!r}")
    top = m.max()
    if top <= 0:
        raise ValueError(f"cam has no positive value (its maximum is {top:.3g}): there is no evidence to box")

    kept = m >= t * top                                          # R: at least t of the maximum
    regions = regionprops(label(kept, connectivity=int(connectivity)))
    largest = max(regions, key=lambda region: region.area)       # the first of the largest on a tie
    return tuple(int(v) for v in largest.bbox)


def box_iou(a, b) -> float:
    r"""Intersection over union of two boxes: :math:`\mathrm{IoU}(A, B) = |A \cap B| \,/\, |A \cup B|`.

    Boxes are ``(row0, col0, row1, col1)`` with exclusive ends, so a box of
    ``row1 - row0`` rows and ``col1 - col0`` columns has that many pixels. The
    result lies in :math:`[0, 1]`: 1 for the same box, 0 for boxes that do not
    overlap. Localisation benchmarks (ImageNet's, the CAM paper's) count a box
    as correct when :math:`\mathrm{IoU} \ge 0.5`.

    >>> box_iou((0, 0, 4, 4), (2, 2, 6, 6))   # 4 pixels shared, 16 + 16 - 4 in all
    0.14285714285714285

    Raises ``ValueError`` naming ``a`` or ``b`` for something that is not four
    finite numbers with ``row0 < row1`` and ``col0 < col1``.
    """
    a, b = _as_box(a, "a"), _as_box(b, "b")
    rows = max(0, min(a[2], b[2]) - max(a[0], b[0]))             # the overlap's height ...
    cols = max(0, min(a[3], b[3]) - max(a[1], b[1]))             # ... and width
    intersection = rows * cols
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    return float(intersection / (area_a + area_b - intersection))


def centre_box(shape, fraction: float) -> tuple[int, int, int, int]:
    r"""A box in the middle of an image of ``shape`` ``(H, W)``, each side ``fraction`` of the image's side.

    The box is :math:`\mathrm{round}(fH)` rows by :math:`\mathrm{round}(fW)`
    columns (at least one of each), centred, so it covers about :math:`f^2` of
    the image. It is the baseline of weakly supervised localisation: a guess
    that never looks at the image.

    >>> centre_box((100, 60), 0.5)
    (25, 15, 75, 45)

    Raises ``ValueError`` for a ``shape`` that is not two positive integers
    (an image's ``shape[:2]``) or a ``fraction`` outside ``(0, 1]``.
    """
    try:
        height, width = (positive_int(v, "shape") for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"shape must be (H, W), two positive integers, got {shape!r}") from None
    f = _fraction(fraction, "fraction", low_open=True)
    rows, cols = max(1, round(f * height)), max(1, round(f * width))
    row0, col0 = (height - rows) // 2, (width - cols) // 2
    return row0, col0, row0 + rows, col0 + cols
