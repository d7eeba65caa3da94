r"""SeCAM: a class activation map averaged inside superpixels — the chapter's computation.

SeCAM (Cao, Nguyen, Nguyen and Nguyen) gives every pixel the mean of the upsampled
map over its superpixel :math:`s`, so that the explanation follows object boundaries:

.. math::

    \bar M_c(s) = \frac{1}{|s|} \sum_{(x, y) \in s} M_c(x, y).

Upsampling (:math:`\operatorname{up}(M_c) = R\,M_c\,C^\top`) and averaging are both
linear, so the means are a fixed matrix times the feature grid:

.. math::

    \bar M_c(s) = \sum_{i,j} P[s, ij]\, M_c(i, j), \qquad
    P[s, ij] = \frac{1}{|s|} \sum_{(y, x) \in s} R[y, i]\, C[x, j].

:mod:`tutorial_utils.secam_fast` computes the same numbers fast (tested equal), for the benchmark,
the explorer and ``secam(..., from_grid=True)``: :math:`P` from runs of labels, kept per segmentation.

>>> segments = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2], [2, 2, 2, 2]])
>>> grid = np.array([[0.0, 4.0], [8.0, 8.0]])            # a 2×2 feature grid
>>> superpixel_means(grid, segments)                       # upsampled to 4×4, then averaged
array([1.4375, 4.0625, 7.25  ])
"""

from __future__ import annotations

import numpy as np

from .checks import as_map_array, as_segments
from .maps import interpolation_matrix
from .secam_fast import secam_from_grid

__all__ = ["secam", "superpixel_means"]


def secam(cam, segments, *, from_grid: bool = False) -> np.ndarray:
    r"""Average a map inside each superpixel: :math:`\bar M_c(s) = \frac{1}{|s|}\sum_{(x,y)\in s} M_c(x,y)`.

    ``cam`` is a 2-D map at the image's resolution (``upsample(cam, image)``);
    ``segments`` an integer label image of the same shape (``superpixels(image)``;
    any labels, gaps allowed). Returns a ``float32`` map in which every pixel holds
    its superpixel's mean. With ``from_grid=True``, ``cam`` is a feature-grid map
    ``(h, w)`` or a stack ``(n, h, w)``, and the result is the SeCAM of its
    upsampling, computed without it (:func:`tutorial_utils.secam_fast.secam_from_grid`).

    >>> secam(np.array([[1.0, 3.0], [5.0, 7.0]]), np.array([[4, 4], [9, 4]]))
    array([[3.6666667, 3.6666667],
           [5.       , 3.6666667]], dtype=float32)

    Raises ``ValueError`` if ``cam`` and ``segments`` differ in shape (upsample the
    CAM to the image, or pass ``from_grid=True``) or ``cam`` holds NaN; ``TypeError``
    for non-integer labels or a non-numeric ``cam``.
    """
    if from_grid:
        return secam_from_grid(cam, segments)
    m, seg = as_map_array(cam, "cam"), as_segments(segments)
    if m.shape != seg.shape:
        raise ValueError(
            f"cam has shape {m.shape} but segments have shape {seg.shape}: upsample the CAM to the image "
            "the superpixels were computed on, as one 2-D map (upsample(cam, image)) — shrinking the segments "
            "to the CAM's grid instead loses most superpixels — or, for maps on the feature grid, pass "
            "from_grid=True"
        )
    _, index = np.unique(seg, return_inverse=True)  # the superpixels, numbered 0 … L-1
    index = index.ravel()
    sums = np.bincount(index, weights=m.ravel().astype(np.float64))  # Σ M_c over each s
    means = sums / np.bincount(index)  # divided by |s|
    return means[index].reshape(seg.shape).astype(np.float32)  # painted back onto the pixels


def superpixel_means(cams, segments) -> np.ndarray:
    r"""The mean of each map over each superpixel, :math:`\bar M_c(s)`, in sorted label order: ``(L,)`` or ``(n, L)``.

    ``cams`` is one map ``(h, w)`` or a stack ``(n, h, w)``: at ``segments``' size it
    is averaged as it is; on a smaller grid it stands for its bilinear upsampling,
    and the means come by linearity, :math:`\bar M_c = P\,M_c`, one row of :math:`P`
    per superpixel. (:func:`tutorial_utils.secam_fast.superpixel_means` is the fast route.)

    >>> superpixel_means(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([[5, 5, 9], [5, 7, 9]]))
    array([2.33333333, 5.        , 4.5       ])

    Raises what :func:`as_map_array` and :func:`as_segments` raise.
    """
    m, seg = as_map_array(cams, "cams"), as_segments(segments)
    stack = (m[None] if m.ndim == 2 else m).astype(np.float64)
    _, index = np.unique(seg, return_inverse=True)
    index = index.reshape(seg.shape)
    n_labels = index.max() + 1
    if stack.shape[1:] == seg.shape:  # at full resolution: Σ over each s, divided by |s|
        sums = np.stack([np.bincount(index.ravel(), weights=one.ravel()) for one in stack])
        means = sums / np.bincount(index.ravel())
    else:  # on a grid: P[s, ij] = (1/|s|) Σ_{(y,x)∈s} R[y, i] C[x, j]
        R = interpolation_matrix(stack.shape[1], seg.shape[0]).numpy().astype(np.float64)
        C = interpolation_matrix(stack.shape[2], seg.shape[1]).numpy().astype(np.float64)
        pixels = (np.nonzero(index == s) for s in range(n_labels))  # (y, x) of each superpixel
        P = np.stack([(R[ys].T @ C[xs]).ravel() / len(ys) for ys, xs in pixels])
        means = stack.reshape(len(stack), -1) @ P.T
    return means[0] if m.ndim == 2 else means
