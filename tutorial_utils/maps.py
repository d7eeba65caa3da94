r"""Tools for any saliency map, whatever method made it: resize, rescale, threshold, measure.

Every method of the book hands over a map :math:`M` of shape ``(h, w)`` (or a
stack ``(n, h, w)``); the steps after it are the same for all of them.

>>> m = upsample(np.array([[0.0, 2.0]]), (1, 4))
>>> m
array([[0. , 0.5, 1.5, 2. ]], dtype=float32)
>>> normalise(m)
array([[0.  , 0.25, 0.75, 1.  ]], dtype=float32)
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .checks import as_map_array, as_numpy, number_in

__all__ = ["NORMALISATIONS", "interpolation_matrix", "normalise", "positive_mass_share", "threshold_mask",
           "upsample"]

#: The normalisations :func:`normalise` knows.
NORMALISATIONS = ("minmax", "relu_max")


def _size(size) -> tuple[int, int]:
    """``(height, width)`` from a size or an image; else a ``ValueError``."""
    if isinstance(size, np.ndarray) and size.ndim >= 2:
        return size.shape[:2]
    try:
        height, width = (int(v) for v in size)
        ok = all(float(v) == int(v) for v in size) and height > 0 and width > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"size must be (height, width) with positive integers, or an image (not an image's "
                         f"whole shape: pass shape[:2]); got {size!r}")
    return height, width


def upsample(cam, size) -> np.ndarray:
    r"""Resize a map to image size, keeping its units: bilinear, :math:`\operatorname{up}(M) = R\,M\,C^\top`.

    ``size`` is ``(H, W)`` or an image. Interpolation is linear, so
    :math:`\operatorname{up}(\sum_k w_k^c f_k) = \sum_k w_k^c \operatorname{up}(f_k)`: the map can
    still be compared with the logits. :math:`R` and :math:`C` are
    :func:`interpolation_matrix` (torch's ``align_corners=False``); two small matrix
    products are several times faster than interpolating the 2-D grid.

    >>> upsample(np.array([[0.0, 1.0]]), (1, 4))
    array([[0.  , 0.25, 0.75, 1.  ]], dtype=float32)

    Raises ``TypeError``/``ValueError`` for a map that is not 2-D or 3-D, holds NaN,
    or a size that is not two positive integers.
    """
    m = torch.from_numpy(np.ascontiguousarray(as_map_array(cam), dtype=np.float32))
    height, width = _size(size)
    rows, cols = interpolation_matrix(m.shape[-2], height), interpolation_matrix(m.shape[-1], width)
    return torch.matmul(torch.matmul(rows, m), cols.T).numpy()


@functools.lru_cache(maxsize=64)
def interpolation_matrix(n: int, size: int) -> torch.Tensor:
    r"""The ``size×n`` matrix :math:`R` of 1-D linear interpolation, exactly as torch's ``align_corners=False``.

    Each row sums to 1. The result is cached: do not modify it in place.

    >>> interpolation_matrix(2, 4)
    tensor([[1.0000, 0.0000],
            [0.7500, 0.2500],
            [0.2500, 0.7500],
            [0.0000, 1.0000]])
    """
    eye = torch.eye(n, dtype=torch.float32)[:, None, :]  # n signals of length n
    out = torch.nn.functional.interpolate(eye, size=size, mode="linear", align_corners=False)
    return out[:, 0, :].T.contiguous()


def normalise(cam, method: str = "relu_max") -> np.ndarray:
    r"""Scale a map (or each map of a stack) to ``[0, 1]``, never producing NaN.

    * ``"relu_max"`` (default): :math:`\max(M, 0) / \max(M)`: evidence against the
      class becomes 0; a map with no positive value becomes all zeros.
    * ``"minmax"``: :math:`(M - \min M)/(\max M - \min M)`; a constant map becomes all zeros.

    >>> normalise(np.array([[-2.0, 0.0], [1.0, 4.0]]))
    array([[0.  , 0.  ],
           [0.25, 1.  ]], dtype=float32)

    Raises ``ValueError`` for an unknown method, NaN or infinite values.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(NORMALISATIONS)}")
    m = as_map_array(cam).astype(np.float64)
    high = m.max(axis=(-2, -1), keepdims=True)                    # per map
    if method == "relu_max":
        top, scale = np.maximum(m, 0.0), high
    else:
        low = m.min(axis=(-2, -1), keepdims=True)
        top, scale = m - low, high - low
    return np.divide(top, scale, out=np.zeros_like(m), where=scale > 0).astype(np.float32)


def threshold_mask(values, t: float) -> np.ndarray:
    r"""The locations whose value exceeds ``t`` times the maximum: :math:`v > t \cdot \max v`.

    With a SeCAM map whole superpixels are kept or dropped together. With no
    positive value the mask is empty (no evidence to keep).

    >>> threshold_mask(np.array([[0.2, 0.9], [-1.0, 0.5]]), 0.5)
    array([[False,  True],
           [False,  True]])

    Raises ``ValueError`` for ``t`` outside ``[0, 1]`` or values with NaN.
    """
    v = as_numpy(values, "values")
    t = number_in(t, "t", 0, 1)
    if not np.isfinite(v).all():
        raise ValueError("values contain NaN or infinite values")
    top = v.max()
    return v > t * top if top > 0 else np.zeros(v.shape, dtype=bool)


def positive_mass_share(heatmap, mask):
    r"""Share of a map's positive mass inside ``mask``: :math:`\sum_{p\in R} M^+(p) / \sum_p M^+(p)`.

    :math:`M^+ = \max(M, 0)`. A map spread evenly scores the mask's area share; a
    map inside the mask scores 1; a map with no positive value scores 0. ``heatmap``
    and ``mask`` are both ``H×W`` (a float) or ``n×H×W`` (an array of ``n``).

    >>> positive_mass_share(np.array([[3.0, -1.0], [1.0, 0.0]]), np.array([[True, True], [False, False]]))
    0.75

    Raises ``TypeError`` for a non-numeric map or a non-boolean mask and
    ``ValueError`` for shapes that differ or are not 2-D/3-D, or NaN.
    """
    m = as_map_array(heatmap, "heatmap").astype(np.float64)
    r = as_numpy(mask, "mask")
    if r.dtype != np.bool_:
        raise TypeError(f"mask must be a boolean numpy array, got {r.dtype}")
    if r.shape != m.shape:
        raise ValueError(f"heatmap has shape {m.shape} but mask has shape {r.shape}; upsample the map "
                         "to the image first (upsample(cam, image))")
    positive = np.maximum(m, 0.0)
    total, inside = positive.sum(axis=(-2, -1)), np.where(r, positive, 0.0).sum(axis=(-2, -1))
    share = np.divide(inside, total, out=np.zeros_like(inside), where=total > 0)
    return float(share) if m.ndim == 2 else share
