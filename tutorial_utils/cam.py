r"""Class Activation Mapping (Zhou et al., CVPR 2016).

For a network whose last convolutional feature maps :math:`f_k(x, y)` are
averaged (global average pooling, :math:`F_k`) and fed to one linear layer,
the score of class :math:`c` is

.. math::

    S_c = \sum_k w_k^c F_k + b_c
        = \frac{1}{hw} \sum_{x,y} \underbrace{\sum_k w_k^c f_k(x, y)}_{M_c(x, y)} + b_c ,

so the class activation map :math:`M_c(x, y) = \sum_k w_k^c f_k(x, y)` says how
much each location contributes to :math:`S_c`: its spatial mean plus the bias
is exactly the logit.
"""

from __future__ import annotations

import functools

import numbers
from typing import Sequence, Union

import numpy as np
import torch

__all__ = ["NORMALISATIONS", "class_activation_map", "normalise", "upsample"]

ClassIndex = Union[int, Sequence[int]]


def _as_tensor(value, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    if isinstance(value, np.ndarray):
        if not np.issubdtype(value.dtype, np.number) or value.dtype == np.bool_:
            raise TypeError(f"{name} must hold numbers, got dtype {value.dtype}")
        return torch.from_numpy(np.ascontiguousarray(value))
    raise TypeError(f"{name} must be a torch tensor or numpy array, got {type(value).__name__}")


def _index_list(class_idx, num_classes: int) -> tuple[list[int], bool]:
    """Return the class indices as a list, and whether a single int was given."""

    def check(i) -> int:
        if isinstance(i, (bool, np.bool_)) or not isinstance(i, (numbers.Integral, torch.Tensor)):
            raise TypeError(f"class_idx must be an integer (or a sequence of them), got {i!r}")
        if isinstance(i, torch.Tensor):
            if i.numel() != 1 or torch.is_floating_point(i):
                raise TypeError(f"class_idx must be an integer, got tensor {i!r}")
            i = i.item()
        i = int(i)
        if not 0 <= i < num_classes:
            raise IndexError(f"class_idx {i} is out of range: the model has {num_classes} classes (0..{num_classes - 1})")
        return i

    if isinstance(class_idx, torch.Tensor) and class_idx.ndim == 0:
        return [check(class_idx)], True
    if isinstance(class_idx, (numbers.Integral,)) and not isinstance(class_idx, (bool, np.bool_)):
        return [check(class_idx)], True
    if isinstance(class_idx, (list, tuple, np.ndarray, torch.Tensor, range)):
        items = list(class_idx.tolist() if hasattr(class_idx, "tolist") else class_idx)
        if not items:
            raise ValueError("class_idx is an empty sequence")
        return [check(i) for i in items], False
    raise TypeError(f"class_idx must be an integer or a sequence of integers, got {type(class_idx).__name__}")


def class_activation_map(feature_maps, fc_weight, class_idx: ClassIndex) -> np.ndarray:
    r"""The raw class activation map :math:`M_c(x,y) = \sum_k w_k^c f_k(x,y)`.

    Parameters
    ----------
    feature_maps
        :math:`f_k(x, y)`: tensor or array of shape ``(K, h, w)`` for one image,
        or ``(B, K, h, w)`` for a batch (the second output of
        ``model.forward_features``).
    fc_weight
        :math:`w`: the last linear layer's weights, shape ``(classes, K)``
        (``model.fc_weight``).
    class_idx
        :math:`c`. For one image: an ``int`` (result ``(h, w)``) or a sequence of
        ints (result ``(len, h, w)``, one map per class). For a batch of ``B > 1``
        images: an ``int`` applied to every image, or a sequence of ``B`` ints, one
        per image (result ``(B, h, w)``) — never silently the first image only.

    Returns
    -------
    numpy.ndarray
        The unnormalised map, ``float32``, at the feature maps' resolution. It is
        not rectified or rescaled: negative values are evidence *against* the
        class, and ``M.mean() + b_c`` equals the logit :math:`S_c`.

    Example
    -------
    >>> f = torch.ones(2, 3, 3); w = torch.tensor([[1.0, -1.0], [2.0, 0.5]])
    >>> class_activation_map(f, w, 1)[0, 0]
    np.float32(2.5)

    Raises
    ------
    TypeError, ValueError, IndexError
        Wrong types, shapes that do not match (including transposed weights),
        non-finite values, or a class index out of range.
    """
    f = _as_tensor(feature_maps, "feature_maps")
    w = _as_tensor(fc_weight, "fc_weight")
    if f.ndim not in (3, 4):
        raise ValueError(
            f"feature_maps must have shape (K, h, w) or (B, K, h, w), got {tuple(f.shape)}"
        )
    if w.ndim != 2:
        raise ValueError(f"fc_weight must have shape (classes, K), got {tuple(w.shape)}")
    single = f.ndim == 3
    if single:
        f = f.unsqueeze(0)
    batch, channels = f.shape[0], f.shape[1]
    if w.shape[1] != channels:
        if w.shape[0] == channels:
            raise ValueError(
                f"fc_weight has shape {tuple(w.shape)} but feature_maps have K={channels} channels: "
                "the weights look transposed. Pass fc.weight as it is, shape (classes, K)."
            )
        raise ValueError(
            f"fc_weight has K={w.shape[1]} columns but feature_maps have K={channels} channels; "
            "are they from the same model and layer?"
        )
    if not torch.is_floating_point(f):
        f = f.float()
    if not torch.is_floating_point(w):
        w = w.float()
    dtype = torch.promote_types(f.dtype, w.dtype)
    f, w = f.to(dtype), w.to(dtype=dtype, device=f.device)
    if not torch.isfinite(f).all():
        raise ValueError("feature_maps contain NaN or infinite values")
    indices, scalar = _index_list(class_idx, w.shape[0])
    # Only the rows of the requested classes enter the maps: checking those, not
    # all classes × K weights, keeps CAM far cheaper than the forward pass.
    if not torch.isfinite(w[sorted(set(indices))]).all():
        raise ValueError("fc_weight contains NaN or infinite values (in the rows of the requested classes)")
    if batch == 1:
        maps = torch.einsum("ck,khw->chw", w[indices], f[0])  # one map per requested class
        result = maps[0] if scalar else maps
    else:
        if scalar:
            indices = indices * batch
        elif len(indices) != batch:
            raise ValueError(
                f"feature_maps hold a batch of {batch} images but class_idx has {len(indices)} "
                "entries; give one class per image, or a single int for all of them"
            )
        result = torch.einsum("bk,bkhw->bhw", w[indices], f)
    return result.cpu().numpy().astype(np.float32, copy=False)


def _as_map_array(cam, name: str = "cam") -> np.ndarray:
    if isinstance(cam, torch.Tensor):
        cam = cam.detach().cpu().numpy()
    if not isinstance(cam, np.ndarray):
        raise TypeError(f"{name} must be a numpy array or torch tensor, got {type(cam).__name__}")
    if cam.dtype == np.bool_ or not np.issubdtype(cam.dtype, np.number):
        raise TypeError(f"{name} must hold numbers, got dtype {cam.dtype}")
    if cam.ndim not in (2, 3) or 0 in cam.shape:
        raise ValueError(f"{name} must have shape (h, w) or (n, h, w), got {cam.shape}")
    if not np.isfinite(cam).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return cam


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
    m = _as_map_array(cam).astype(np.float32, copy=False)
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
    rows = _interpolation_matrix(m.shape[-2], height)
    cols = _interpolation_matrix(m.shape[-1], width)
    return torch.matmul(torch.matmul(rows, t), cols.T).numpy()


@functools.lru_cache(maxsize=64)
def _interpolation_matrix(n: int, size: int) -> torch.Tensor:
    """``size×n`` matrix of 1-D linear interpolation, exactly as torch's ``align_corners=False``."""
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
    m = _as_map_array(cam).astype(np.float64)
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
