r"""Tools for any saliency map, whatever method made it: resize, rescale, threshold, measure.

Every method of the book — CAM, SeCAM, Grad-CAM, HiResCAM, LIME — hands over a
map :math:`M` of shape ``(h, w)`` (or a stack ``(n, h, w)``). The steps after it
are the same for all of them, and live here:

* :func:`upsample` — to the image's size, keeping the map's units
  (:math:`\operatorname{up}(M) = R\,M\,C^\top`, with :func:`interpolation_matrix`);
* :func:`normalise` — to ``[0, 1]`` for display, never producing NaN;
* :func:`threshold_mask` — the locations above a share of the maximum;
* :func:`positive_mass_share` — how much of the positive evidence lies in a region.

>>> m = upsample(np.array([[0.0, 2.0]]), (1, 4))
>>> m
array([[0. , 0.5, 1.5, 2. ]], dtype=float32)
>>> normalise(m)
array([[0.  , 0.25, 0.75, 1.  ]], dtype=float32)
>>> threshold_mask(m, 0.5)
array([[False, False,  True,  True]])
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .checks import as_map_array, as_numpy

__all__ = [
    "NORMALISATIONS",
    "interpolation_matrix",
    "normalise",
    "positive_mass_share",
    "threshold_mask",
    "upsample",
]


def upsample(cam, size) -> np.ndarray:
    r"""Resize a map to image size with bilinear interpolation, keeping its units.

    ``cam`` has shape ``(h, w)`` or ``(n, h, w)``; ``size`` is ``(H, W)`` or an
    image whose first two dimensions are used. Values are interpolated, not
    rescaled, so the result can still be compared with the logits: bilinear
    interpolation is linear, hence
    :math:`\operatorname{up}(\sum_k w_k^c f_k) = \sum_k w_k^c \operatorname{up}(f_k)`.
    Uses ``align_corners=False``: each of the ``h×w`` cells is centred on the
    image region it summarises.

    >>> upsample(np.array([[0.0, 1.0]]), (1, 4))
    array([[0.  , 0.25, 0.75, 1.  ]], dtype=float32)

    Raises ``TypeError``/``ValueError`` for a map that is not 2-D or 3-D, holds
    NaN, or a size that is not two positive integers.
    """
    m = as_map_array(cam).astype(np.float32, copy=False)
    if isinstance(size, np.ndarray) and size.ndim >= 2:
        size = size.shape[:2]
    try:
        height, width = (int(v) for v in size)
        ok = all(float(v) == int(v) for v in size)
    except (TypeError, ValueError):
        ok = False
    if not ok or height <= 0 or width <= 0:
        raise ValueError(
            f"size must be (height, width) with positive integers, or an image; got {size!r}"
            + (" (for an image's shape, pass shape[:2] or the image itself)" if isinstance(size, tuple) and len(size) == 3 else "")
        )
    # Bilinear interpolation is separable: up(M) = R M Cᵀ, with R (H×h) and C (W×w)
    # the 1-D linear-interpolation matrices. Two small matrix products are several
    # times faster than interpolating the 2-D grid, and give the same numbers.
    t = torch.from_numpy(np.ascontiguousarray(m))
    rows = interpolation_matrix(m.shape[-2], height)
    cols = interpolation_matrix(m.shape[-1], width)
    return torch.matmul(torch.matmul(rows, t), cols.T).numpy()


@functools.lru_cache(maxsize=64)
def interpolation_matrix(n: int, size: int) -> torch.Tensor:
    r"""The ``size×n`` matrix :math:`R` of 1-D linear interpolation, exactly as torch's ``align_corners=False``.

    :func:`upsample` is :math:`\operatorname{up}(M) = R\,M\,C^\top` with
    ``R = interpolation_matrix(h, H)`` and ``C = interpolation_matrix(w, W)``.
    Each row sums to 1 (every output is a weighted mean of inputs). The result is
    cached; do not modify it in place.

    >>> interpolation_matrix(2, 4)
    tensor([[1.0000, 0.0000],
            [0.7500, 0.2500],
            [0.2500, 0.7500],
            [0.0000, 1.0000]])
    """
    eye = torch.eye(n, dtype=torch.float32)[:, None, :]  # n signals of length n
    out = torch.nn.functional.interpolate(eye, size=size, mode="linear", align_corners=False)
    return out[:, 0, :].T.contiguous()


#: The normalisations :func:`normalise` knows.
NORMALISATIONS = ("minmax", "relu_max")


def normalise(cam, method: str = "relu_max") -> np.ndarray:
    r"""Scale a map to ``[0, 1]`` for display or thresholding, never producing NaN.

    * ``"relu_max"`` (default): :math:`\max(M, 0) / \max(M)`. Negative values —
      evidence *against* the class — become 0; the strongest positive evidence
      becomes 1. A map with no positive value becomes all zeros.
    * ``"minmax"``: :math:`(M - \min M)/(\max M - \min M)`. Uses the whole range;
      the least supportive location becomes 0 even if it was positive. A constant
      map becomes all zeros.

    A stack ``(n, h, w)`` is normalised map by map.

    >>> normalise(np.array([[-2.0, 0.0], [1.0, 4.0]]))
    array([[0.  , 0.  ],
           [0.25, 1.  ]], dtype=float32)

    Raises ``ValueError`` for an unknown method, NaN or infinite values.
    """
    if method not in NORMALISATIONS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(NORMALISATIONS)}")
    m = as_map_array(cam).astype(np.float64)
    single = m.ndim == 2
    stack = m[None] if single else m
    out = np.zeros_like(stack)
    for i, one in enumerate(stack):
        if method == "relu_max":
            top = one.max()
            if top > 0:
                out[i] = np.maximum(one, 0.0) / top
        else:
            low, high = one.min(), one.max()
            if high > low:
                out[i] = (one - low) / (high - low)
    out = out.astype(np.float32)
    return out[0] if single else out


def threshold_mask(values, t: float) -> np.ndarray:
    r"""Keep the locations whose value exceeds ``t`` times the maximum: :math:`v > t \cdot \max v`.

    With a SeCAM map, whole superpixels are kept or dropped together. If no
    value is positive the mask is empty — there is no evidence to keep — rather
    than the result of dividing by a non-positive maximum.

    >>> threshold_mask(np.array([[0.2, 0.9], [-1.0, 0.5]]), 0.5)
    array([[False,  True],
           [False,  True]])

    Raises ``ValueError`` for ``t`` outside ``[0, 1]`` or values with NaN.
    """
    v = as_numpy(values, "values")
    if not isinstance(t, (int, float, np.floating)) or not 0.0 <= float(t) <= 1.0:
        raise ValueError(f"t must be a number in [0, 1], got {t!r}")
    if not np.isfinite(v).all():
        raise ValueError("values contain NaN or infinite values")
    top = v.max()
    if top <= 0:
        return np.zeros(v.shape, dtype=bool)
    return v > t * top


def positive_mass_share(heatmap, mask):
    r"""Share of a map's positive mass that falls inside ``mask``: :math:`\sum_{p\in R} M^+(p) / \sum_p M^+(p)`.

    :math:`M^+ = \max(M, 0)` is the positive evidence and :math:`R` the masked
    pixels. A map spread evenly scores the mask's area share ``mask.mean()``;
    a map entirely inside the mask scores 1. ``heatmap`` and ``mask`` have the
    same shape, ``H×W`` (result a float) or ``n×H×W`` (result an array of
    ``n``). A map with no positive value scores 0, never NaN.

    >>> positive_mass_share(np.array([[3.0, -1.0], [1.0, 0.0]]), np.array([[True, True], [False, False]]))
    0.75

    Raises ``TypeError`` for a non-numeric map or a non-boolean mask and
    ``ValueError`` for shapes that differ or are not 2-D/3-D, or NaN.
    """
    m = as_map_array(heatmap, "heatmap").astype(np.float64)
    r = mask.detach().cpu().numpy() if isinstance(mask, torch.Tensor) else mask
    if not isinstance(r, np.ndarray) or r.dtype != np.bool_:
        raise TypeError(f"mask must be a boolean numpy array, got "
                        f"{r.dtype if isinstance(r, np.ndarray) else type(r).__name__}")
    if r.shape != m.shape:
        raise ValueError(f"heatmap has shape {m.shape} but mask has shape {r.shape}; upsample the map "
                         "to the image first (upsample(cam, image))")
    positive = np.maximum(m, 0.0)
    axes = (-2, -1)
    total = positive.sum(axis=axes)
    inside = np.where(r, positive, 0.0).sum(axis=axes)
    share = np.divide(inside, total, out=np.zeros_like(inside), where=total > 0)
    return float(share) if m.ndim == 2 else share
