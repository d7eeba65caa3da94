r"""How well superpixels follow true boundaries: boundary recall and undersegmentation error.

Two measures of superpixel quality (Neubert & Protzel, 2012) that compare a
segmentation with a ground truth whose regions are known — for example the
generated scenes of :func:`shapes_scene`, or one SLIC implementation against
another:

* :func:`boundary_recall` — the share of the true boundary pixels that lie
  within a few pixels of a superpixel boundary (1 is best);
* :func:`undersegmentation_error` — how much the superpixels leak across true
  regions (0 is best).

Both take two integer label images of one shape. The SLIC chapter measures its
from-scratch SLIC against scikit-image's with :func:`boundary_recall`; the
benchmark scores SLIC implementations with both.

>>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
>>> boundary_recall(truth, truth), undersegmentation_error(truth, truth)
(1.0, 0.0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["BOUNDARY_TOLERANCE", "boundary_recall", "undersegmentation_error"]

#: A true boundary pixel counts as found within this many pixels of a superpixel boundary.
BOUNDARY_TOLERANCE = 2.0


def _boundaries(labels: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of another label (both sides of every edge are marked).

    The same pixels as ``skimage.segmentation.find_boundaries(labels)`` (its
    default ``mode="thick"``).
    """
    edges = np.zeros(labels.shape, dtype=bool)
    across = labels[:, 1:] != labels[:, :-1]
    edges[:, 1:] |= across
    edges[:, :-1] |= across
    down = labels[1:] != labels[:-1]
    edges[1:] |= down
    edges[:-1] |= down
    return edges


def _label_pair(segments, ground_truth) -> tuple[np.ndarray, np.ndarray]:
    """Both label images as arrays, checked: 2-D, one shape, integer labels."""
    s, g = np.asarray(segments), np.asarray(ground_truth)
    if s.ndim != 2 or s.shape != g.shape:
        raise ValueError(f"segments and ground_truth must be 2-D of one shape, got {s.shape} and {g.shape}")
    if not (np.issubdtype(s.dtype, np.integer) and np.issubdtype(g.dtype, np.integer)):
        raise TypeError(f"labels must be integers, got dtypes {s.dtype} and {g.dtype}")
    return s, g


def boundary_recall(segments, ground_truth, tolerance: float = BOUNDARY_TOLERANCE) -> float:
    r"""Share of the true boundary pixels that lie within ``tolerance`` pixels of a superpixel boundary.

    A pixel is a boundary pixel when one of its 4-neighbours has another label
    (as ``skimage.segmentation.find_boundaries`` marks them). With :math:`B_G`
    the boundary pixels of ``ground_truth`` and :math:`d(p)` the Euclidean
    distance from :math:`p` to the nearest boundary pixel of ``segments``:

    .. math:: \mathrm{BR} = \frac{|\{p \in B_G : d(p) \le \text{tolerance}\}|}{|B_G|}

    1 means every true edge is followed by a superpixel edge; superpixels
    that only follow edges well are not penalised for extra edges (that is
    what :func:`undersegmentation_error` and the superpixel count are for).
    ``ground_truth`` may be any segmentation taken as the reference — the SLIC
    chapter recalls scikit-image's boundaries with its from-scratch SLIC.

    >>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    >>> boundary_recall(truth, truth), boundary_recall(np.zeros_like(truth), truth)
    (1.0, 0.0)

    Raises ``ValueError`` when the shapes differ or ``ground_truth`` has a
    single region (no boundary to recall), ``TypeError`` for non-integer labels.
    """
    from scipy import ndimage

    s, g = _label_pair(segments, ground_truth)
    truth = _boundaries(g)
    if not truth.any():
        raise ValueError("ground_truth has a single region: there is no boundary to recall")
    found = _boundaries(s)
    if not found.any():
        return 0.0
    distance = ndimage.distance_transform_edt(~found)  # to the nearest superpixel boundary pixel
    return float(np.mean(distance[truth] <= tolerance))


def undersegmentation_error(segments, ground_truth) -> float:
    r"""Undersegmentation error of Neubert & Protzel (2012): how much superpixels leak across true regions.

    For every true region :math:`G` and every superpixel :math:`S` that
    overlaps it, the smaller of the part inside and the part outside counts as
    leaked; the sum is divided by the number of pixels :math:`N`:

    .. math:: \mathrm{UE} = \frac{1}{N} \sum_G \sum_{S \cap G \ne \emptyset} \min(|S \cap G|, |S \setminus G|)

    0 means every superpixel lies inside one true region. Labels may be any
    integers; a region is all pixels of one ground-truth label.

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
