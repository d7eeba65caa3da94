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

from typing import Sequence, Union

import numpy as np
import torch

from .checks import as_tensor, class_indices

__all__ = ["class_activation_map"]

ClassIndex = Union[int, Sequence[int]]


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
    f = as_tensor(feature_maps, "feature_maps")
    w = as_tensor(fc_weight, "fc_weight")
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
    indices, scalar = class_indices(class_idx, w.shape[0])
    every_class = len(indices) == w.shape[0] and indices == list(range(w.shape[0]))
    rows = w if every_class else w.index_select(0, torch.as_tensor(indices, device=w.device))
    if batch == 1:
        # One map per requested class: M = W[c] f, a (classes × K) · (K × hw) product.
        maps = torch.matmul(rows, f[0].reshape(channels, -1)).reshape(len(indices), *f.shape[2:])
        result = maps[0] if scalar else maps
    else:
        if scalar:
            indices = indices * batch
        elif len(indices) != batch:
            raise ValueError(
                f"feature_maps hold a batch of {batch} images but class_idx has {len(indices)} "
                "entries; give one class per image, or a single int for all of them"
            )
        result = torch.einsum("bk,bkhw->bhw", w.index_select(0, torch.as_tensor(indices, device=w.device)), f)
    # A NaN or infinite value in the feature maps or in the requested rows of the
    # weights makes the maps non-finite (even times 0). So the maps (n×h×w values)
    # are checked, not the inputs (K×h×w and n×K): CAM stays cheap for every class.
    if not torch.isfinite(result).all():
        if not torch.isfinite(f).all():
            raise ValueError("feature_maps contain NaN or infinite values")
        raise ValueError("fc_weight contains NaN or infinite values (in the rows of the requested classes)")
    return result.cpu().numpy().astype(np.float32, copy=False)
