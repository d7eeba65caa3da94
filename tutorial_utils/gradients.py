r"""Gradient-based class activation maps: Grad-CAM and HiResCAM.

For the activations :math:`A^k` (``B×K×h×w``) of a layer and the score
:math:`y^c` of class :math:`c`:

.. math::

    \text{Grad-CAM:}\quad \alpha_k^c = \frac{1}{Z}\sum_{i,j}\frac{\partial y^c}{\partial A^k_{ij}},
    \qquad L^c = \mathrm{ReLU}\Big(\sum_k \alpha_k^c A^k\Big)

    \text{HiResCAM:}\quad L^c = \sum_k \frac{\partial y^c}{\partial A^k} \odot A^k

(Selvaraju et al., ICCV 2017; Draelos and Carin, 2020). At the layer that feeds
global average pooling + one linear layer, :math:`\partial y^c/\partial A^k_{ij}
= w_k^c / Z` with :math:`Z = hw`, so Grad-CAM is ReLU(CAM)/Z and HiResCAM is
CAM/Z.

Only the part of the network after the layer is differentiated: the layer's
output is detached and made a leaf that requires gradients, and
``torch.autograd.grad`` differentiates the class score with respect to it alone
— no gradient flows to the input or to any weight.
"""

from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch
from torch import nn

from .cam import _index_list

__all__ = ["LayerCapture", "grad_cam", "hires_cam"]


class LayerCapture:
    """Context manager: catch a layer's output as a leaf tensor that requires gradients.

    >>> with LayerCapture(model.feature_layer) as capture:   # doctest: +SKIP
    ...     logits = model(x)
    >>> capture.activations.shape                             # doctest: +SKIP

    The hook is removed on exit, also when the block raises; the exception is
    never swallowed.
    """

    def __init__(self, layer: nn.Module) -> None:
        if not isinstance(layer, nn.Module):
            raise TypeError(f"layer must be a torch.nn.Module, got {type(layer).__name__}")
        self.layer = layer
        self.activations: torch.Tensor | None = None
        self._handle = None

    def _hook(self, module, inputs, output):
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"{type(module).__name__} returns {type(output).__name__}, not a tensor")
        leaf = output.detach().requires_grad_(True)
        self.activations = leaf
        return leaf  # the rest of the network computes from the leaf

    def __enter__(self) -> "LayerCapture":
        self._handle = self.layer.register_forward_hook(self._hook)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        return False  # never swallow an exception


def _resolve_layer(model: nn.Module, layer) -> nn.Module:
    if layer is None:
        if not hasattr(model, "feature_layer"):
            raise ValueError("this model has no feature_layer: pass layer= explicitly")
        return model.feature_layer
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer)
        except AttributeError:
            names = [n for n, _ in model.named_modules() if n][:8]
            raise ValueError(f"model has no layer named {layer!r}; names look like {names}") from None
    if isinstance(layer, nn.Module):
        if not any(m is layer for m in model.modules()):
            raise ValueError("layer is not a module of this model")
        return layer
    raise TypeError(f"layer must be None, a dotted name or a module of the model, got {type(layer).__name__}")


def _class_indices(class_idx, batch: int, num_classes: int) -> list[int]:
    """One checked class index per image; a single int applies to every image."""
    indices, single = _index_list(class_idx, num_classes)
    if single:
        return indices * batch
    if len(indices) != batch:
        raise ValueError(f"x holds {batch} images but class_idx has {len(indices)} entries; "
                         "give one class per image, or one int for all")
    return indices


def _activations_and_gradients(model, x, class_idx, layer):
    if not torch.is_grad_enabled():
        raise RuntimeError(
            "gradient methods need autograd, but they were called under torch.no_grad() or "
            "torch.inference_mode(); call them outside that block"
        )
    target = _resolve_layer(model, layer)
    if hasattr(model, "_check_input"):
        model._check_input(x)
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise TypeError("x must be a (B, 3, H, W) tensor: call model.preprocess(image) first")
    with LayerCapture(target) as capture:
        logits = model(x)
    indices = _class_indices(class_idx, x.shape[0], logits.shape[1])
    if capture.activations is None:
        raise RuntimeError("the layer did not run during the forward pass")
    A = capture.activations
    score = logits[torch.arange(x.shape[0]), indices].sum()  # images do not interact
    (grads,) = torch.autograd.grad(score, A)
    return A.detach(), grads


def _finish(maps: torch.Tensor) -> np.ndarray:
    out = maps.cpu().numpy().astype(np.float32)
    return out[0] if out.shape[0] == 1 else out


ClassIndex = Union[int, Sequence[int]]


def grad_cam(model, x: torch.Tensor, class_idx: ClassIndex, layer=None) -> np.ndarray:
    r"""Grad-CAM :math:`L^c = \mathrm{ReLU}(\sum_k \alpha_k^c A^k)` at ``layer``'s resolution.

    ``model`` is what :func:`load_model` returns (any ``nn.Module`` classifier
    works with an explicit ``layer``), ``x`` what its ``preprocess`` returns (a
    batch is fine); ``class_idx`` an int or one int per image;
    ``layer`` ``None`` (the layer feeding global average pooling), a dotted name
    (``"features.layer3"``) or a module of the model. Returns the unnormalised
    map, ``(h, w)`` for one image or ``(B, h, w)``.

    Raises ``RuntimeError`` under ``torch.no_grad()``, ``ValueError`` /
    ``TypeError`` / ``IndexError`` for bad layers, inputs or classes.
    """
    A, grads = _activations_and_gradients(model, x, class_idx, layer)
    alpha = grads.mean(dim=(2, 3), keepdim=True)  # (1/Z) Σ_ij ∂y^c/∂A^k_ij
    return _finish(torch.relu((alpha * A).sum(dim=1)))


def hires_cam(model, x: torch.Tensor, class_idx: ClassIndex, layer=None) -> np.ndarray:
    r"""HiResCAM :math:`L^c = \sum_k (\partial y^c/\partial A^k) \odot A^k`, unnormalised, no ReLU.

    Same arguments, errors and return shapes as :func:`grad_cam`.
    """
    A, grads = _activations_and_gradients(model, x, class_idx, layer)
    return _finish((grads * A).sum(dim=1))
