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

from .checks import class_indices
from .maps import upsample

__all__ = [
    "GuidedBackprop",
    "GuidedReLUFunction",
    "LayerCapture",
    "grad_cam",
    "guided_backprop",
    "guided_grad_cam",
    "hires_cam",
    "seg_grad_cam",
    "seg_hires_cam",
]


class LayerCapture:
    """Context manager: catch a layer's output as a leaf tensor that requires gradients.

    >>> with LayerCapture(model.feature_layer) as capture:
    ...     logits = model(x)
    >>> tuple(capture.activations.shape), capture.activations.requires_grad   # f: B×K×h×w
    ((1, 1280, 7, 7), True)

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
    indices, single = class_indices(class_idx, num_classes)
    if single:
        return indices * batch
    if len(indices) != batch:
        raise ValueError(f"x holds {batch} images but class_idx has {len(indices)} entries; "
                         "give one class per image, or one int for all")
    return indices


def _check_grad_enabled() -> None:
    if not torch.is_grad_enabled():
        raise RuntimeError(
            "gradient methods need autograd, but they were called under torch.no_grad() or "
            "torch.inference_mode(); call them outside that block"
        )


def _check_batch(model, x) -> None:
    if hasattr(model, "check_input"):  # a CamModel: its own checks and messages
        model.check_input(x)
    if not isinstance(x, torch.Tensor) or x.ndim != 4:
        raise TypeError("x must be a (B, 3, H, W) tensor: call model.preprocess(image) first")


def _classifier_score(logits: torch.Tensor, indices: list[int]) -> torch.Tensor:
    """Σ_b y^{c_b}_b: images do not interact, so one backward pass serves the batch."""
    if logits.ndim != 2:
        raise ValueError(
            f"the model returns {logits.ndim}-D outputs {tuple(logits.shape)}, not (B, classes) "
            "logits; for a segmentation model use seg_grad_cam / seg_hires_cam"
        )
    return logits[torch.arange(logits.shape[0]), indices].sum()


def _activations_and_gradients(model, x, class_idx, layer, score=_classifier_score):
    _check_grad_enabled()
    target = _resolve_layer(model, layer)
    _check_batch(model, x)
    with LayerCapture(target) as capture:
        logits = model(x)
    if isinstance(logits, dict):  # torchvision segmentation models return {"out": ...}
        logits = logits["out"]
    indices = _class_indices(class_idx, x.shape[0], logits.shape[1])
    if capture.activations is None:
        raise RuntimeError("the layer did not run during the forward pass")
    A = capture.activations
    (grads,) = torch.autograd.grad(score(logits, indices), A)
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


# --------------------------------------------------------------------------- #
# Segmentation: Seg-Grad-CAM and its HiResCAM twin
# --------------------------------------------------------------------------- #


def _region_masks(region, logits: torch.Tensor, indices: list[int]) -> torch.Tensor:
    """Boolean ``B×H×W`` masks M: the given region, or the pixels predicted as c."""
    B, _, H, W = logits.shape
    if region is None:
        predicted = logits.detach().argmax(dim=1)
        masks = predicted == torch.as_tensor(indices, device=logits.device).view(B, 1, 1)
    else:
        masks = torch.as_tensor(np.asarray(region), device=logits.device)
        if masks.dtype != torch.bool:
            if masks.is_floating_point() and torch.isnan(masks).any():
                raise ValueError("region holds NaN; pass a boolean mask")
            masks = masks != 0
        if tuple(masks.shape) == (H, W):
            masks = masks.expand(B, H, W)
        if tuple(masks.shape) != (B, H, W):
            raise ValueError(
                f"region must be H×W or B×H×W at the output's resolution {(H, W)}, "
                f"got shape {tuple(np.shape(region))}"
            )
    for b, c in enumerate(indices):
        if not masks[b].any():
            what = "the region is empty" if region is not None else f"no pixel is predicted as class {c}"
            raise ValueError(
                f"image {b}: {what}, so the target Σ_(i,j)∈M y^c_ij is zero and has no gradient; "
                "pass a non-empty region= or explain a class the model predicts"
            )
    return masks


def _segmentation_score(region):
    def score(logits: torch.Tensor, indices: list[int]) -> torch.Tensor:
        if logits.ndim != 4:
            raise ValueError(
                f"a segmentation model returns (B, classes, H, W) logits; this one returns "
                f"shape {tuple(logits.shape)} — for a classifier use grad_cam / hires_cam"
            )
        masks = _region_masks(region, logits, indices)
        chosen = logits[torch.arange(logits.shape[0]), indices]  # B×H×W: y^c for each image
        return (chosen * masks).sum()

    return score


def seg_grad_cam(model, x: torch.Tensor, class_idx: ClassIndex, layer=None, region=None) -> np.ndarray:
    r"""Seg-Grad-CAM: Grad-CAM of the summed class logits over a region of a segmentation output.

    The target is :math:`y^c = \sum_{(i,j) \in M} y^c_{ij}`, the logits of class
    :math:`c` summed over the pixels :math:`M` predicted as :math:`c` (or over
    ``region``, a boolean ``H×W`` / ``B×H×W`` mask at the output's resolution);
    the rest is Grad-CAM (Vinogradova et al., AAAI 2020):
    :math:`L^c = \mathrm{ReLU}(\sum_k \alpha_k^c A^k)`.

    ``model`` returns ``(B, classes, H, W)`` logits (or a torchvision-style dict
    with ``"out"``); ``layer`` is a dotted name or a module (``None`` only if
    the model has a ``feature_layer``). Returns the map at the layer's
    resolution.

    >>> net = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 2, 1))  # 2 classes per pixel
    >>> everywhere = torch.ones(16, 16, dtype=torch.bool)
    >>> seg_grad_cam(net, torch.randn(1, 3, 16, 16), class_idx=1, layer="1", region=everywhere).shape
    (16, 16)

    Raises ``ValueError`` when the region (or the predicted class) is empty —
    the target would be zero with no gradient — or the model is a classifier;
    and the errors of :func:`grad_cam`.
    """
    A, grads = _activations_and_gradients(model, x, class_idx, layer, _segmentation_score(region))
    alpha = grads.mean(dim=(2, 3), keepdim=True)
    return _finish(torch.relu((alpha * A).sum(dim=1)))


def seg_hires_cam(model, x: torch.Tensor, class_idx: ClassIndex, layer=None, region=None) -> np.ndarray:
    r"""HiResCAM with the segmentation target of :func:`seg_grad_cam`: :math:`\sum_k (\partial y^c/\partial A^k) \odot A^k`.

    Same arguments, errors and return shapes as :func:`seg_grad_cam`.
    """
    A, grads = _activations_and_gradients(model, x, class_idx, layer, _segmentation_score(region))
    return _finish((grads * A).sum(dim=1))


# --------------------------------------------------------------------------- #
# Guided backpropagation and Guided Grad-CAM
# --------------------------------------------------------------------------- #


class GuidedReLUFunction(torch.autograd.Function):
    r"""The guided ReLU: forward a ReLU (or ReLU6), backward only positive gradients where the input was active.

    .. math::

        R^{(l)} = \mathbb{1}[z > 0]\;\mathbb{1}[R^{(l+1)} > 0]\; R^{(l+1)}

    (and :math:`z <` ``upper`` for ReLU6). :class:`GuidedBackprop` swaps every
    ReLU of a model for one of these; chapter 07's exercise checker uses it as the
    reference answer.

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

    def extra_repr(self) -> str:
        return "" if self.upper is None else f"upper={self.upper}"


def _relu_upper(module: nn.Module):
    """``(True, upper)`` for ReLU-family modules, ``(False, None)`` otherwise."""
    if isinstance(module, nn.ReLU):
        return True, None
    if isinstance(module, nn.Hardtanh) and module.min_val == 0.0:  # ReLU6 is Hardtanh(0, 6)
        return True, float(module.max_val)
    return False, None


class GuidedBackprop:
    r"""Context manager: every ``nn.ReLU`` / ``nn.ReLU6`` of ``model`` backpropagates guided.

    Inside the block a ReLU's backward pass keeps a gradient only where the
    forward input was positive *and* the incoming gradient is positive
    (Springenberg et al., 2015):
    :math:`R^{l} = [x^{l} > 0]\,[R^{l+1} > 0]\,R^{l+1}`. The forward pass is
    unchanged. The original modules are put back on exit, also when the block
    raises; the exception is never swallowed.

    >>> xg = x.clone().requires_grad_(True)
    >>> with GuidedBackprop(model) as guided:
    ...     model(xg)[0, c].backward()
    ...     print(guided.num_relus > 0)          # the ReLUs it swapped, while inside
    True
    >>> tuple(xg.grad.shape)
    (1, 3, 224, 224)

    Raises ``ValueError`` for a model without ReLU modules (activations called
    as functions cannot be swapped).
    """

    def __init__(self, model: nn.Module) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        self.model = model
        self._swapped: list[tuple[nn.Module, str, nn.Module]] = []

    def __enter__(self) -> "GuidedBackprop":
        targets = []
        for parent in self.model.modules():
            for name, child in parent.named_children():
                is_relu, upper = _relu_upper(child)
                if is_relu:
                    targets.append((parent, name, child, upper))
        if not targets:
            raise ValueError(
                f"{type(self.model).__name__} has no nn.ReLU / nn.ReLU6 modules to guide; guided "
                "backpropagation is defined for ReLU networks (activations called as functions "
                "cannot be replaced)"
            )
        try:
            for parent, name, child, upper in targets:
                setattr(parent, name, _GuidedReLU(upper))
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


def guided_backprop(model, x: torch.Tensor, class_idx: ClassIndex) -> np.ndarray:
    r"""Guided backpropagation: :math:`\partial y^c / \partial x` with every ReLU's backward guided.

    Same ``model`` / ``x`` / ``class_idx`` as :func:`grad_cam`. Returns the
    gradient image ``(3, H, W)`` for one image or ``(B, 3, H, W)``, in the
    units of the preprocessed input; show it with :func:`gradient_image`.

    >>> g = guided_backprop(model, x, c)
    >>> g.shape, gradient_image(g).shape       # show it with plt.imshow(gradient_image(g))
    ((3, 224, 224), (224, 224, 3))

    Raises the errors of :func:`grad_cam` and of :class:`GuidedBackprop`.
    """
    _check_grad_enabled()
    _check_batch(model, x)
    x = x.detach().clone().requires_grad_(True)
    with GuidedBackprop(model):
        logits = model(x)
        indices = _class_indices(class_idx, x.shape[0], logits.shape[1])
        (grads,) = torch.autograd.grad(_classifier_score(logits, indices), x)
    return _finish(grads)


def guided_grad_cam(model, x: torch.Tensor, class_idx: ClassIndex, layer=None) -> np.ndarray:
    r"""Guided Grad-CAM: guided backpropagation times the Grad-CAM map upsampled to the input.

    :math:`G^c = \text{GuidedBackprop}^c \odot \text{upsample}(L^c_{\text{Grad-CAM}})`
    (Selvaraju et al., 2017) — fine detail from the first, class focus from the
    second. Same arguments and errors as :func:`grad_cam`; returns ``(3, H, W)``
    or ``(B, 3, H, W)``.
    """
    guided = guided_backprop(model, x, class_idx)
    cams = grad_cam(model, x, class_idx, layer)
    up = upsample(cams, tuple(x.shape[-2:]))  # (H, W) or (B, H, W)
    return (guided * (up[None] if guided.ndim == 3 else up[:, None])).astype(np.float32)
