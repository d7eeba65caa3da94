r"""Class Activation Mapping (Zhou et al., CVPR 2016).

For a network whose last feature maps :math:`f_k(x, y)` are averaged (:math:`F_k`)
and fed to one linear layer, the score of class :math:`c` is

.. math::

    S_c = \sum_k w_k^c F_k + b_c
        = \frac{1}{hw} \sum_{x,y} \underbrace{\sum_k w_k^c f_k(x, y)}_{M_c(x, y)} + b_c ,

so the class activation map :math:`M_c(x, y)` says how much each location
contributes to :math:`S_c`: its spatial mean plus the bias is exactly the logit.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch

from .checks import as_tensor, class_indices

__all__ = ["class_activation_map"]

ClassIndex = Union[int, Sequence[int]]


def _check_shapes(f: torch.Tensor, w: torch.Tensor) -> None:
    if f.ndim not in (3, 4):
        raise ValueError(f"feature_maps must have shape (K, h, w) or (B, K, h, w), got {tuple(f.shape)}")
    if w.ndim != 2:
        raise ValueError(f"fc_weight must have shape (classes, K), got {tuple(w.shape)}")
    channels = f.shape[-3]
    if w.shape[1] != channels and w.shape[0] == channels:
        raise ValueError(f"fc_weight has shape {tuple(w.shape)} but feature_maps have K={channels} channels: "
                         "the weights look transposed. Pass fc.weight as it is, shape (classes, K).")
    if w.shape[1] != channels:
        raise ValueError(f"fc_weight has K={w.shape[1]} columns but feature_maps have K={channels} channels; "
                         "are they from the same model and layer?")


def class_activation_map(feature_maps, fc_weight, class_idx: ClassIndex) -> np.ndarray:
    r"""The raw class activation map :math:`M_c(x,y) = \sum_k w_k^c f_k(x,y)`.

    ``feature_maps`` are :math:`f_k`, ``(K, h, w)`` for one image or ``(B, K, h, w)``
    (``model.forward_features``' second output); ``fc_weight`` is :math:`w`,
    ``(classes, K)`` (``model.fc_weight``). For one image ``class_idx`` is an int
    (result ``(h, w)``) or a sequence (one map per class); for a batch, one int for
    every image or one per image (result ``(B, h, w)``). The map is ``float32`` and
    neither rectified nor rescaled: ``M.mean() + b_c`` is the logit :math:`S_c`.

    >>> f = torch.ones(2, 3, 3)
    >>> w = torch.tensor([[1.0, -1.0], [2.0, 0.5]])
    >>> class_activation_map(f, w, 1)[0, 0]
    np.float32(2.5)

    Raises ``TypeError``/``ValueError``/``IndexError`` for wrong types, shapes that do
    not match (transposed weights too), NaN, or a class index out of range.
    """
    f, w = as_tensor(feature_maps, "feature_maps"), as_tensor(fc_weight, "fc_weight")
    _check_shapes(f, w)
    dtype = torch.promote_types(f.dtype if f.is_floating_point() else torch.float32,
                                w.dtype if w.is_floating_point() else torch.float32)
    f = (f if f.ndim == 4 else f[None]).to(dtype)
    w = w.to(dtype=dtype, device=f.device)
    indices, scalar = class_indices(class_idx, w.shape[0])
    if len(f) == 1:
        # One map per requested class: M = W[c] f, a (classes × K) · (K × hw) product.
        rows = w if indices == list(range(w.shape[0])) else w[torch.as_tensor(indices, device=w.device)]
        maps = torch.matmul(rows, f[0].flatten(1)).reshape(len(indices), *f.shape[2:])
        result = maps[0] if scalar else maps
    else:
        indices = indices * len(f) if scalar else indices
        if len(indices) != len(f):
            raise ValueError(f"feature_maps hold a batch of {len(f)} images but class_idx has {len(indices)} "
                             "entries; give one class per image, or a single int for all of them")
        result = torch.einsum("bk,bkhw->bhw", w[torch.as_tensor(indices, device=w.device)], f)
    if not torch.isfinite(result).all():  # NaN in f or in w's rows shows in the (smaller) maps: check them
        bad = "feature_maps contain" if not torch.isfinite(f).all() else "fc_weight contains"
        raise ValueError(f"{bad} NaN or infinite values")
    return result.cpu().numpy().astype(np.float32, copy=False)
