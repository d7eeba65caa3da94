r"""Chapter 6's transfer task: Grad-CAM behind a head that is not GAP + linear, with autograd.

The reader writes ``my_head_grad_cam(A, head, c)``: ``A`` are the activations
``1×K×h×w`` of a layer, ``head`` the rest of the network as a function from
such activations to logits ``1×classes``, and ``c`` a class. The answer is
:math:`\alpha_k = \frac{1}{Z}\sum_{i,j} \partial y^c/\partial A^k_{ij}` and
:math:`L = \mathrm{ReLU}(\sum_k \alpha_k A^k)`, an ``h×w`` map; the reader
has to make ``A`` require gradients and differentiate the score themselves.

The heads are small and seeded: a 1×1 convolution, ReLU, global average
pooling and a linear layer; and a VGG-like flatten, linear, ReLU, linear. Both
make the gradient vary over positions, so Grad-CAM is not ReLU(CAM)/Z and
differs from HiResCAM. The class asked for is never the top class, and the
weighted sum has positive and negative parts, so that each known mistake
(no ReLU, the sum of all logits, the softmax probability, CAM's summed weights,
activations not multiplied, HiResCAM) gives numbers of its own.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_head_grad_cam"]


class _Head:
    """A seeded head ``1×K×h×w → 1×classes``; ``repr`` names its layers, for the checker's messages."""

    def __init__(self, kind: str, K: int, h: int, w: int, hidden: int, classes: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        inputs = K if kind == "conv" else K * h * w
        self.kind, self.classes = kind, classes
        self.W1 = float_tensor(rng.normal(size=(hidden, inputs)) / np.sqrt(inputs))
        self.b1 = float_tensor(rng.normal(size=hidden) * 0.3)
        self.W2 = float_tensor(rng.normal(size=(classes, hidden)))

    def __call__(self, A: torch.Tensor) -> torch.Tensor:
        if self.kind == "conv":  # 1×1 convolution, ReLU, global average pooling, linear
            hidden = torch.relu(torch.einsum("mk,bkhw->bmhw", self.W1, A) + self.b1[:, None, None])
            return hidden.mean(dim=(2, 3)) @ self.W2.T
        hidden = torch.relu(A.flatten(1) @ self.W1.T + self.b1)  # flatten, linear, ReLU, linear
        return hidden @ self.W2.T

    def __eq__(self, other) -> bool:
        """Two heads are equal when they compute the same function (the grader rebuilds the cases and compares)."""
        return (isinstance(other, _Head) and (self.kind, self.classes) == (other.kind, other.classes)
                and all(torch.equal(a, b) for a, b in ((self.W1, other.W1), (self.b1, other.b1), (self.W2, other.W2))))

    __hash__ = None

    def __repr__(self) -> str:
        layers = ("1×1 convolution, ReLU, global average pooling, linear" if self.kind == "conv"
                  else "flatten, linear, ReLU, linear")
        return f"<head: {layers}; {self.classes} classes>"


def _gradient(A, head, score):
    """∂ score(head(A)) / ∂A, for a copy of A made a leaf that requires gradients."""
    A = torch.as_tensor(A).detach().clone().requires_grad_(True)
    (dA,) = torch.autograd.grad(score(head(A)), A)
    return A.detach(), dA


def _map(A, dA, weights=lambda dA: dA.mean(dim=(2, 3), keepdim=True), relu=True):
    L = (weights(dA) * A).sum(dim=1)[0]
    return torch.relu(L) if relu else L


def _head_grad_cam_reference(A, head, c):
    A, dA = _gradient(A, head, lambda logits: logits[0, c])
    return _map(A, dA)  # ReLU(Σ_k α_k A^k), α_k = mean over the positions of ∂y^c/∂A^k


def _with_score(score):
    def wrong(A, head, c):
        return _map(*_gradient(A, head, lambda logits: score(logits, c)))

    return wrong


def _with(**how):
    def wrong(A, head, c):
        return _map(*_gradient(A, head, lambda logits: logits[0, c]), **how)

    return wrong


def _hires(relu):
    def wrong(A, head, c):
        A, dA = _gradient(A, head, lambda logits: logits[0, c])
        L = (dA * A).sum(dim=1)[0]
        return torch.relu(L) if relu else L

    return wrong


def _not_multiplied(A, head, c):
    _, dA = _gradient(A, head, lambda logits: logits[0, c])
    return torch.relu(dA.sum(dim=1)[0])


def _head_grad_cam_cases():
    rng = np.random.default_rng(61)

    def case(kind, K, h, w, hidden, classes, seed):
        A = float_tensor(rng.random((1, K, h, w)) * 2)
        head = _Head(kind, K, h, w, hidden, classes, seed)
        with torch.no_grad():
            logits = head(A)[0]
        # A class that is not the top one, and whose weighted sum has both signs.
        for c in torch.argsort(logits).tolist():
            L = _head_grad_cam_reference(A, head, c)
            pre = _with(relu=False)(A, head, c)
            if c != int(logits.argmax()) and (pre < 0).any() and (pre > 0).any() and L.abs().max() > 1e-3:
                return make_case(A=A, head=head, c=c)
        raise AssertionError("no suitable class; change the seed")

    return [case("conv", 4, 3, 4, 6, 5, 1), case("fc", 3, 4, 3, 8, 4, 2), case("conv", 5, 2, 5, 7, 6, 3)]


EXERCISE = Exercise(
    id="head_grad_cam",
    chapter="06_grad_cam",
    function="my_head_grad_cam",
    signature="my_head_grad_cam(A, head, c)",
    title="Grad-CAM behind a non-linear head, with autograd",
    reference_name="Grad-CAM, ReLU(Σ_k α_k A^k) with α_k the mean of ∂y^c/∂A^k",
    reference=_head_grad_cam_reference,
    cases=_head_grad_cam_cases,
    kind="transfer",
    mistakes=(
        Mistake("forgot the ReLU", _with(relu=False),
                "Grad-CAM keeps only the positive part: apply a ReLU to the weighted sum Σ_k α_k A^k."),
        Mistake("the gradient of the sum of all logits", _with_score(lambda logits, c: logits[0].sum()),
                "differentiate the score of class c alone, `head(A)[0, c]`, not the sum of every logit."),
        Mistake("the gradient of the softmax probability", _with_score(lambda logits, c: logits.softmax(dim=1)[0, c]),
                "Grad-CAM differentiates the logit y^c (before the softmax), `head(A)[0, c]`."),
        Mistake("explained the top class instead of c", _with_score(lambda logits, c: logits[0, logits[0].argmax()]),
                "explain the class you are given, `c`, not the head's top class."),
        Mistake("summed the gradients: CAM's weights", _with(weights=lambda dA: dA.sum(dim=(2, 3), keepdim=True)),
                "α_k is the *mean* of the gradient over the Z = h·w positions; the sum equals CAM's weight "
                "only behind GAP + linear, and is Z times too large."),
        Mistake("activations not multiplied", _not_multiplied,
                "the gradients only give the weights α_k; the map is Σ_k α_k A^k — weigh the activations A with them."),
        Mistake("element-wise product: that is HiResCAM", _hires(relu=False),
                "Grad-CAM first averages each gradient map to one weight α_k, weighs A^k with it, and applies a ReLU; "
                "behind a non-linear head this differs from HiResCAM's element-wise product."),
        Mistake("element-wise product, then ReLU: that is ReLU(HiResCAM)", _hires(relu=True),
                "Grad-CAM first averages each gradient map to one weight α_k = mean of ∂y^c/∂A^k, then weighs A^k with it."),
    ),
    error_hints=(
        ("does not require grad", "make A a leaf that requires gradients before calling the head: "
                                  "`A = A.detach().clone().requires_grad_(True)`."),
        ("Can't call numpy() on Tensor that requires grad", "detach the result first: `L.detach()`."),
    ),
)


def check_head_grad_cam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_head_grad_cam(A, head, c)``: Grad-CAM :math:`\mathrm{ReLU}(\sum_k \alpha_k A^k)` behind any head.

    ``A`` is a tensor ``1×K×h×w`` (a layer's activations, not requiring
    gradients), ``head`` a function from such a tensor to logits
    ``1×classes`` (the rest of the network), ``c`` a class index. The function
    returns the ``h×w`` map with
    :math:`\alpha_k = \frac{1}{Z}\sum_{i,j}\partial y^c/\partial A^k_{ij}`,
    the gradient computed with autograd.

    >>> def answer(A, head, c):
    ...     A = A.detach().clone().requires_grad_(True)
    ...     (dA,) = torch.autograd.grad(head(A)[0, c], A)
    ...     return torch.relu((dA.mean(dim=(2, 3), keepdim=True) * A).sum(dim=1))[0]
    >>> check_head_grad_cam(answer).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
