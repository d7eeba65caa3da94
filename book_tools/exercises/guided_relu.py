r"""Chapter 7's auto-checked exercise: the backward rule of a guided ReLU, :math:`R^{l} = [z > 0]\,[R^{l+1} > 0]\,R^{l+1}`.

The reader writes ``my_guided_relu_grad(z, R)``; the reference is the
backward pass of the library's own guided ReLU
(:class:`tutorial_utils.gradients.GuidedReLUFunction`). Plain backpropagation
and the deconvnet rule, each keeping one of the two masks, are among the
known mistakes; a case with zeros in ``z`` tells ``z > 0`` from ``z ≥ 0``.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_guided_relu_grad"]


def _guided_reference(z, R):
    """The backward pass of the library's own guided ReLU (gradients.GuidedReLUFunction)."""
    from tutorial_utils.gradients import GuidedReLUFunction

    z = z.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(GuidedReLUFunction.apply(z, None), z, R)
    return grad


def _guided_cases():
    rng = np.random.default_rng(7)
    z2 = np.array([[0.0, 1.5, -0.5, 0.0], [2.0, 0.0, -1.0, 0.7]])
    R2 = np.array([[3.0, 0.0, 2.0, 1.0], [-1.5, 2.5, 0.5, 0.0]])
    return [
        make_case(z=float_tensor(rng.normal(size=(3, 4))), R=float_tensor(rng.normal(size=(3, 4)))),
        make_case(z=float_tensor(z2), R=float_tensor(R2)),
        make_case(z=float_tensor(np.array([-1.0, 2.0, 3.0, 0.5])),
                  R=float_tensor(np.array([5.0, -4.0, 1.0, 2.0]))),
    ]


EXERCISE = Exercise(
    id="guided_relu_grad",
    chapter="07_guided_backprop",
    function="my_guided_relu_grad",
    signature="my_guided_relu_grad(z, R)",
    title="the backward rule of a guided ReLU",
    reference_name="the guided rule [z > 0] [R > 0] R",
    reference=_guided_reference,
    cases=_guided_cases,
    mistakes=(
        Mistake("plain backpropagation", lambda z, R: torch.where(z > 0, R, torch.zeros_like(R)),
                "that is the plain rule [z > 0] R: guided backpropagation also drops the negative incoming gradients, [R > 0]."),
        Mistake("the deconvnet rule", lambda z, R: torch.where(R > 0, R, torch.zeros_like(R)),
                "that is the deconvnet rule [R > 0] R: guided backpropagation also stops the gradient of inactive units, [z > 0]."),
        Mistake("no mask", lambda z, R: R.clone(),
                "keep R only where the unit was active (z > 0) *and* the incoming gradient is positive (R > 0)."),
        Mistake("masks joined with or", lambda z, R: torch.where((z > 0) | (R > 0), R, torch.zeros_like(R)),
                "both conditions must hold: [z > 0] *and* [R > 0]."),
        Mistake("returned z instead of R", lambda z, R: torch.where((z > 0) & (R > 0), z, torch.zeros_like(z)),
                "the rule passes the incoming gradient R, not the forward input z."),
        Mistake("returned the mask", lambda z, R: ((z > 0) & (R > 0)).float(),
                "multiply the mask by R: return the gradient, not the 0/1 mask."),
        Mistake("z ≥ 0 instead of z > 0", lambda z, R: torch.where((z >= 0) & (R > 0), R, torch.zeros_like(R)),
                "a unit with z = 0 is inactive (ReLU's gradient at 0 is 0 in PyTorch): use z > 0."),
    ),
)


def check_guided_relu_grad(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_guided_relu_grad(z, R)``: the guided rule :math:`R^{l} = [z > 0]\,[R^{l+1} > 0]\,R^{l+1}`.

    ``z`` is the ReLU's input and ``R`` the incoming gradient :math:`R^{l+1}`,
    tensors of the same shape; the function returns :math:`R^l`, same shape.

    >>> check_guided_relu_grad(lambda z, R: torch.where((z > 0) & (R > 0), R, 0.0)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
