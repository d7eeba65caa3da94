r"""Chapter 6's auto-checked exercise: Grad-CAM from activations and gradients.

The reader writes ``my_grad_cam(A, dA)``:
:math:`\alpha_k = \frac{1}{Z}\sum_{i,j} \partial y^c/\partial A^k_{ij}` and
:math:`L = \mathrm{ReLU}(\sum_k \alpha_k A^k)`. The mistakes below include
HiResCAM (an element-wise product instead of averaged weights), the sibling
method of chapter 6 and a natural slip.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_grad_cam"]


def _gc_np(A, dA):
    return np.asarray(A, dtype=np.float64), np.asarray(dA, dtype=np.float64)


def _grad_cam_reference(A, dA):
    A, dA = _gc_np(A, dA)
    alpha = dA.mean(axis=(1, 2))  # α_k = (1/Z) Σ_ij ∂y^c/∂A^k_ij
    return np.maximum(np.einsum("k,khw->hw", alpha, A), 0)


def _gc_mistake(formula):
    def wrong(A, dA):
        return formula(*_gc_np(A, dA))

    return wrong


def _grad_cam_cases():
    rng = np.random.default_rng(6)
    return [
        make_case(A=float_tensor(rng.random((5, 3, 4))), dA=float_tensor(rng.normal(size=(5, 3, 4)))),
        make_case(A=float_tensor(rng.random((4, 5, 2))), dA=float_tensor(rng.normal(size=(4, 5, 2)))),
    ]


def _relu(x):
    return np.maximum(x, 0)


EXERCISE = Exercise(
    id="grad_cam",
    chapter="06_grad_cam",
    function="my_grad_cam",
    signature="my_grad_cam(A, dA)",
    title="Grad-CAM from activations and gradients",
    reference_name="Grad-CAM, ReLU(Σ_k α_k A^k)",
    reference=_grad_cam_reference,
    cases=_grad_cam_cases,
    mistakes=(
        Mistake("forgot the ReLU", _gc_mistake(lambda A, dA: np.einsum("k,khw->hw", dA.mean(axis=(1, 2)), A)),
                "Grad-CAM keeps only the positive part: apply a ReLU to the weighted sum."),
        Mistake("element-wise product, then ReLU: that is ReLU(HiResCAM)", _gc_mistake(lambda A, dA: _relu((dA * A).sum(0))),
                "Grad-CAM first averages each gradient map to one weight α_k = mean of dA[k], then weighs A[k] with it."),
        Mistake("element-wise product: that is HiResCAM", _gc_mistake(lambda A, dA: (dA * A).sum(0)),
                "Grad-CAM first averages each gradient map to one weight α_k = mean of dA[k], weighs A[k] with it, "
                "and applies a ReLU."),
        Mistake("summed the gradients instead of averaging", _gc_mistake(lambda A, dA: _relu(np.einsum("k,khw->hw", dA.sum(axis=(1, 2)), A))),
                "α_k is the *mean* of the gradient over the Z = h·w positions: `dA.mean(dim=(1, 2))`."),
        Mistake("A and dA swapped", _gc_mistake(lambda A, dA: _relu(np.einsum("k,khw->hw", A.mean(axis=(1, 2)), dA))),
                "average the *gradients* dA to get the weights, and weigh the *activations* A with them."),
        Mistake("averaged over the channels instead of summing", _gc_mistake(lambda A, dA: _relu(np.einsum("k,khw->hw", dA.mean(axis=(1, 2)), A) / A.shape[0])),
                "the map is the *sum* over the channels k of α_k A^k, not the mean."),
        Mistake("averaged the gradient over the channels instead of the positions", _gc_mistake(lambda A, dA: _relu(dA.mean(axis=0) * A.sum(0))),
                "α_k averages dA[k] over the positions (axes 1 and 2), giving one weight per channel."),
        Mistake("ReLU on the weights instead of the map", _gc_mistake(lambda A, dA: np.einsum("k,khw->hw", _relu(dA.mean(axis=(1, 2))), A)),
                "weigh with α_k as it is (negative weights included), and apply the ReLU to the weighted sum."),
    ),
)


def check_grad_cam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_grad_cam(A, dA)``: :math:`\alpha_k = \frac{1}{Z}\sum_{i,j} \partial y^c/\partial A^k_{ij}`, :math:`L = \mathrm{ReLU}(\sum_k \alpha_k A^k)`.

    ``A`` (activations) and ``dA`` (their gradients :math:`\partial y^c/\partial A`)
    are tensors ``K×h×w`` for one image; the function returns the ``h×w``
    Grad-CAM map, compared with the formula that :func:`grad_cam` applies.

    >>> import torch
    >>> check_grad_cam(lambda A, dA: torch.relu((dA.mean(dim=(1, 2))[:, None, None] * A).sum(0))).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
