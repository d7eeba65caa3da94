r"""Gradient-based maps: Grad-CAM, HiResCAM, guided backpropagation and Guided Grad-CAM.

For the activations :math:`A^k` (``B×K×h×w``) of a layer and the score :math:`y^c` to explain:

.. math::

    \text{Grad-CAM:}\quad \alpha_k^c = \frac{1}{Z}\sum_{i,j}\frac{\partial y^c}{\partial A^k_{ij}},
    \qquad L^c = \mathrm{ReLU}\Big(\sum_k \alpha_k^c A^k\Big)

    \text{HiResCAM:}\quad L^c = \sum_k \frac{\partial y^c}{\partial A^k} \odot A^k

(Selvaraju et al., ICCV 2017; Draelos and Carin, 2020). The score is a *target*, as in
pytorch-grad-cam: a class index (the logit :math:`y^c`), one per image, or a callable on the
model's output that returns the score(s) — for a segmentation network, the logits of class
:math:`c` summed over a mask (Vinogradova et al., 2020). Only the part of the network after the
layer is differentiated: the layer's output is detached and made a leaf that requires gradients.
"""

from __future__ import annotations

from typing import Callable, Sequence, Union

import numpy as np
import torch
from torch import nn

from .checks import class_per_image, model_batch, module_of, nonzero_gradient, require_grad, target_scores
from .maps import upsample

__all__ = [
    "GuidedBackprop",
    "GuidedReLUFunction",
    "LayerCapture",
    "grad_cam",
    "guided_backprop",
    "guided_grad_cam",
    "hires_cam",
]

#: A class index, one per image, or a callable ``output -> score(s)``.
Target = Union[int, Sequence[int], Callable[[torch.Tensor], torch.Tensor]]


class LayerCapture:
    """Context manager: catch a layer's output as a leaf tensor that requires gradients.

    >>> with LayerCapture(model.feature_layer) as capture:
    ...     logits = model(x)
    >>> tuple(capture.activations.shape), capture.activations.requires_grad   # f: B×K×h×w
    ((1, 1280, 7, 7), True)

    The hook is removed on exit, also when the block raises; the exception is never swallowed.
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
        self.activations = output.detach().requires_grad_(True)
        return self.activations  # the rest of the network computes from the leaf

    def __enter__(self) -> "LayerCapture":
        self._handle = self.layer.register_forward_hook(self._hook)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        return False  # never swallow an exception


def _gradient(output, target: Target, wrt: torch.Tensor) -> torch.Tensor:
    """∂y/∂wrt for the target's score y, summed over the images: they do not interact, so one pass serves all."""
    if isinstance(output, dict):  # torchvision segmentation models return {"out": ...}
        output = output["out"]
    if callable(target):
        y = target_scores(target(output), len(output)).sum()
    else:
        y = output[torch.arange(len(output)), class_per_image(target, output)].sum()
    (grads,) = torch.autograd.grad(y, wrt)
    return nonzero_gradient(grads) if callable(target) else grads


def _activations_and_gradients(model, x, target: Target, layer):
    require_grad("a gradient method")
    module = module_of(model, layer)
    model_batch(model, x)
    with LayerCapture(module) as capture:
        output = model(x)
    if capture.activations is None:
        raise RuntimeError("the layer did not run during the forward pass")
    A = capture.activations
    return A.detach(), _gradient(output, target, A)


def _per_image(maps: torch.Tensor) -> np.ndarray:
    out = maps.cpu().numpy().astype(np.float32)
    return out[0] if out.shape[0] == 1 else out


def _on_grid(A, dA, reshape_transform):
    """Activations and gradients as ``B×K×h×w``: a transformer's tokens go through ``reshape_transform`` first."""
    if reshape_transform is not None:
        A, dA = reshape_transform(A), reshape_transform(dA)
    if A.ndim != 4:
        raise ValueError(f"the layer gives shape {tuple(A.shape)}, not B×K×h×w: for a transformer's tokens, pass "
                         "reshape_transform (e.g. tokens_to_grid), which puts the patch tokens on their grid")
    return A, dA


def grad_cam(model, x: torch.Tensor, target: Target, layer=None, reshape_transform=None) -> np.ndarray:
    r"""Grad-CAM :math:`L^c = \mathrm{ReLU}(\sum_k \alpha_k^c A^k)`, unnormalised, at ``layer``'s resolution.

    ``x`` is what ``model.preprocess`` returns (a batch is fine). ``target`` is a class index, one
    per image, or a callable on the model's output (``B×classes`` logits, or ``B×classes×H×W``
    for segmentation) returning the score to explain, one number or one per image. ``layer`` is
    ``None`` (the model's ``feature_layer``), a dotted name or a module of the model. For a
    transformer, whose layers output tokens ``B×T×D``, ``reshape_transform`` maps them (and their
    gradients) to ``B×D×h×w``, as pytorch-grad-cam's argument of that name. Returns
    ``(h, w)`` for one image, else ``(B, h, w)``.

    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))  # 2 classes per pixel
    >>> mask = torch.zeros(16, 16)
    >>> mask[4:8, 4:8] = 1
    >>> grad_cam(net, torch.randn(1, 3, 16, 16), lambda out: (out[:, 1] * mask).sum(), layer="1").shape
    (16, 16)

    Raises ``RuntimeError`` under ``torch.no_grad()``; ``ValueError`` / ``TypeError`` /
    ``IndexError`` for bad layers, inputs or targets, and a ``ValueError`` when a callable
    target's gradient is zero for an image (an empty mask: the map would be blank).
    """
    A, dA = _on_grid(*_activations_and_gradients(model, x, target, layer), reshape_transform)
    alpha = dA.mean(dim=(2, 3), keepdim=True)  # α_k^c = (1/Z) Σ_ij ∂y^c/∂A^k_ij
    return _per_image(torch.relu((alpha * A).sum(dim=1)))


def hires_cam(model, x: torch.Tensor, target: Target, layer=None, reshape_transform=None) -> np.ndarray:
    r"""HiResCAM :math:`L^c = \sum_k (\partial y^c/\partial A^k) \odot A^k`, unnormalised, no ReLU.

    Same arguments, errors and return shapes as :func:`grad_cam`.
    """
    A, dA = _on_grid(*_activations_and_gradients(model, x, target, layer), reshape_transform)
    return _per_image((dA * A).sum(dim=1))


# --------------------------------------------------------------------------- #
# Guided backpropagation and Guided Grad-CAM
# --------------------------------------------------------------------------- #


class GuidedReLUFunction(torch.autograd.Function):
    r"""The guided ReLU: forward a ReLU (or ReLU6 with ``upper=6``), backward only positive gradients of active units.

    .. math::

        R^{(l)} = \mathbb{1}[z > 0]\;\mathbb{1}[R^{(l+1)} > 0]\; R^{(l+1)}

    >>> z = torch.tensor([-1.0, 2.0, 3.0], requires_grad=True)
    >>> torch.autograd.grad(GuidedReLUFunction.apply(z, None), z, torch.tensor([5.0, 5.0, -5.0]))[0]
    tensor([0., 5., 0.])
    """

    @staticmethod
    def forward(ctx, x, upper):
        ctx.save_for_backward(x)
        ctx.upper = upper
        return x.clamp(min=0.0) if upper is None else x.clamp(0.0, upper)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        active = x > 0
        if ctx.upper is not None:
            active &= x < ctx.upper
        return torch.where(active & (grad > 0), grad, 0.0), None


class _GuidedReLU(nn.Module):
    def __init__(self, upper: float | None) -> None:
        super().__init__()
        self.upper = upper

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return GuidedReLUFunction.apply(x, self.upper)


def _guided(module: nn.Module) -> _GuidedReLU | None:
    """The guided twin of an ``nn.ReLU`` or ``nn.ReLU6`` (``Hardtanh(0, 6)``) module; ``None`` for other modules."""
    if isinstance(module, nn.ReLU):
        return _GuidedReLU(None)
    if isinstance(module, nn.Hardtanh) and module.min_val == 0.0:
        return _GuidedReLU(float(module.max_val))
    return None


class GuidedBackprop:
    r"""Context manager: every ``nn.ReLU`` / ``nn.ReLU6`` of ``model`` backpropagates guided.

    Springenberg et al. (2015): inside the block a ReLU keeps a gradient only where its input
    was positive *and* the incoming gradient is positive,
    :math:`R^{l} = [x^{l} > 0]\,[R^{l+1} > 0]\,R^{l+1}`; the forward pass is unchanged. The
    original modules are put back on exit, also when the block raises; the exception is never
    swallowed.

    >>> xg = x.clone().requires_grad_(True)
    >>> with GuidedBackprop(model) as guided:
    ...     model(xg)[0, c].backward()
    ...     print(guided.num_relus > 0)          # the ReLUs it swapped, while inside
    True

    Raises ``ValueError`` for a model without ReLU modules (activations called as functions
    cannot be swapped).
    """

    def __init__(self, model: nn.Module) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self._swapped: list[tuple[nn.Module, str, nn.Module]] = []

    def __enter__(self) -> "GuidedBackprop":
        relus = [(parent, name, child) for parent in self.model.modules()
                 for name, child in parent.named_children() if _guided(child) is not None]
        if not relus:
            raise ValueError(f"{type(self.model).__name__} has no nn.ReLU / nn.ReLU6 modules to guide "
                             "(activations called as functions cannot be replaced)")
        try:
            for parent, name, child in relus:
                setattr(parent, name, _guided(child))
                self._swapped.append((parent, name, child))
        except BaseException:
            self._restore()
            raise
        return self

    def _restore(self) -> None:
        while self._swapped:
            parent, name, child = self._swapped.pop()
            setattr(parent, name, child)

    def __exit__(self, exc_type, exc, tb) -> bool:
        self._restore()
        return False  # never swallow an exception

    @property
    def num_relus(self) -> int:
        """How many activation modules are guided right now."""
        return len(self._swapped)


def guided_backprop(model, x: torch.Tensor, target: Target) -> np.ndarray:
    r"""Guided backpropagation: :math:`\partial y^c / \partial x` with every ReLU's backward guided.

    Same ``model`` / ``x`` / ``target`` as :func:`grad_cam`. Returns the gradient image
    ``(3, H, W)`` for one image, else ``(B, 3, H, W)``; show it with :func:`gradient_image`.

    >>> guided_backprop(model, x, c).shape
    (3, 224, 224)

    Raises the errors of :func:`grad_cam` and of :class:`GuidedBackprop`.
    """
    require_grad("guided_backprop")
    model_batch(model, x)
    x = x.detach().clone().requires_grad_(True)
    with GuidedBackprop(model):
        return _per_image(_gradient(model(x), target, x))


def guided_grad_cam(model, x: torch.Tensor, target: Target, layer=None) -> np.ndarray:
    r"""Guided Grad-CAM: guided backpropagation times the Grad-CAM map upsampled to the input (Selvaraju et al., 2017).

    :math:`G^c = \text{GuidedBackprop}^c \odot \text{upsample}(L^c_{\text{Grad-CAM}})`: fine detail from the
    first, class focus from the second. Same arguments and errors as :func:`grad_cam`; returns
    ``(3, H, W)`` or ``(B, 3, H, W)``.
    """
    guided = guided_backprop(model, x, target)
    up = upsample(grad_cam(model, x, target, layer), tuple(x.shape[-2:]))  # (H, W) or (B, H, W)
    return (guided * (up[None] if guided.ndim == 3 else up[:, None])).astype(np.float32)
