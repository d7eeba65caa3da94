r"""How well superpixels follow true boundaries: boundary recall and undersegmentation error.

Two measures (Neubert & Protzel, 2012) that compare a segmentation with a reference
whose regions are known (the scenes of :func:`shapes_scene`, or another SLIC), both
on two integer label images of one shape: :func:`boundary_recall` (1 is best) and
:func:`undersegmentation_error` (0 is best).

>>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
>>> boundary_recall(truth, truth), undersegmentation_error(truth, truth)
(1.0, 0.0)
"""

from __future__ import annotations

import numpy as np

from .checks import as_segments

__all__ = ["BOUNDARY_TOLERANCE", "boundary_recall", "undersegmentation_error"]

#: A true boundary pixel counts as found within this many pixels of a superpixel boundary.
BOUNDARY_TOLERANCE = 2.0


def _label_pair(segments, ground_truth) -> tuple[np.ndarray, np.ndarray]:
    s, g = as_segments(segments), as_segments(ground_truth, "ground_truth")
    if s.shape != g.shape:
        raise ValueError(f"segments and ground_truth must have one shape, got {s.shape} and {g.shape}")
    return s, g


def boundary_recall(segments, ground_truth, tolerance: float = BOUNDARY_TOLERANCE) -> float:
    r"""Share of the true boundary pixels within ``tolerance`` pixels of a superpixel boundary.

    Boundary pixels are those with a 4-neighbour of another label
    (``skimage.segmentation.find_boundaries``). With :math:`B_G` those of
    ``ground_truth`` and :math:`d(p)` the distance from :math:`p` to the nearest
    boundary pixel of ``segments``:

    .. math:: \mathrm{BR} = \frac{|\{p \in B_G : d(p) \le \text{tolerance}\}|}{|B_G|}

    Extra superpixel edges cost nothing here (:func:`undersegmentation_error` counts leaks).

    >>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    >>> boundary_recall(truth, truth), boundary_recall(np.zeros_like(truth), truth)
    (1.0, 0.0)

    Raises ``ValueError`` for shapes that differ or a ``ground_truth`` with a single
    region (no boundary to recall), ``TypeError`` for non-integer labels.
    """
    from scipy import ndimage
    from skimage.segmentation import find_boundaries

    s, g = _label_pair(segments, ground_truth)
    truth, found = find_boundaries(g), find_boundaries(s)
    if not truth.any():
        raise ValueError("ground_truth has a single region: there is no boundary to recall")
    if not found.any():
        return 0.0
    distance = ndimage.distance_transform_edt(~found)  # to the nearest superpixel boundary pixel
    return float(np.mean(distance[truth] <= tolerance))


def undersegmentation_error(segments, ground_truth) -> float:
    r"""How much superpixels :math:`S` leak across true regions :math:`G` (Neubert & Protzel, 2012).

    .. math:: \mathrm{UE} = \frac{1}{N} \sum_G \sum_{S \cap G \ne \emptyset} \min(|S \cap G|, |S \setminus G|)

    with :math:`N` the number of pixels: 0 when every superpixel lies inside one region.

    >>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    >>> undersegmentation_error(truth, truth), undersegmentation_error(np.zeros_like(truth), truth)
    (0.0, 1.0)

    Raises ``ValueError`` when the shapes differ, ``TypeError`` for non-integer labels.
    """
    s, g = _label_pair(segments, ground_truth)
    _, s_index, s_size = np.unique(s.ravel(), return_inverse=True, return_counts=True)
    _, g_index = np.unique(g.ravel(), return_inverse=True)
    # |S ∩ G| for every (G, S) pair that overlaps, from one pass over the pixels.
    pairs, overlap = np.unique(g_index.astype(np.int64) * len(s_size) + s_index, return_counts=True)
    outside = s_size[pairs % len(s_size)] - overlap  # |S \ G|
    return float(np.minimum(overlap, outside).sum() / s.size)
