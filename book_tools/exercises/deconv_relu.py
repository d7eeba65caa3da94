r"""Chapter 7's transfer task: the deconvnet's rule at a ReLU, :math:`R^{l} = [R^{l+1} > 0]\,R^{l+1}`.

The reader writes ``my_deconv_relu_grad(z, R)``: what Zeiler and Fergus's
deconvnet passes back through a ReLU whose input was ``z``, given the incoming
signal ``R``. Unlike plain backpropagation (:math:`[z > 0]\,R`) and guided
backpropagation (:math:`[z > 0]\,[R > 0]\,R`), it ignores whether the unit was
active: it applies a ReLU to the signal itself. The chapter shows the other two
rules; the known mistakes are those rules, no mask at all, and a few slips. The
cases have inactive units with positive signals, active units with negative
ones, and zeros in both.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_deconv_relu_grad"]


def _deconv_reference(z, R):
    return torch.where(R > 0, R, torch.zeros_like(R))  # [R > 0] R, whatever z was


def _deconv_cases():
    rng = np.random.default_rng(70)
    z2 = np.array([[-2.0, 1.5, -0.5, 0.0], [2.0, -1.0, 3.0, 0.7]])
    R2 = np.array([[3.0, -2.0, 2.0, 1.0], [-1.5, 2.5, 0.5, 0.0]])
    return [
        make_case(z=float_tensor(rng.normal(size=(3, 5))), R=float_tensor(rng.normal(size=(3, 5)))),
        make_case(z=float_tensor(z2), R=float_tensor(R2)),
        make_case(z=float_tensor(np.array([-1.0, 2.0, 3.0, 0.5])),
                  R=float_tensor(np.array([5.0, -4.0, 1.0, 2.0]))),
    ]


def _zeros(R):
    return torch.zeros_like(R)


EXERCISE = Exercise(
    id="deconv_relu_grad",
    chapter="07_guided_backprop",
    function="my_deconv_relu_grad",
    signature="my_deconv_relu_grad(z, R)",
    title="the deconvnet's rule at a ReLU",
    reference_name="the deconvnet rule [R > 0] R",
    reference=_deconv_reference,
    cases=_deconv_cases,
    kind="transfer",
    mistakes=(
        Mistake("the guided rule", lambda z, R: torch.where((z > 0) & (R > 0), R, _zeros(R)),
                "that is guided backpropagation, [z > 0] [R > 0] R: the deconvnet ignores whether the unit was "
                "active — drop the mask [z > 0]."),
        Mistake("plain backpropagation", lambda z, R: torch.where(z > 0, R, _zeros(R)),
                "that is the plain rule [z > 0] R, which masks with the forward input; the deconvnet masks with "
                "the sign of the incoming signal instead, [R > 0]."),
        Mistake("no mask", lambda z, R: R.clone(),
                "the deconvnet applies a ReLU to the incoming signal: keep R only where R > 0."),
        Mistake("kept the negative signals", lambda z, R: torch.where(R < 0, R, _zeros(R)),
                "keep the *positive* incoming signals, R > 0, and set the others to zero."),
        Mistake("returned the mask", lambda z, R: (R > 0).float(),
                "multiply the mask by R: return the signal, not the 0/1 mask."),
        Mistake("returned z instead of R", lambda z, R: torch.where(R > 0, z, _zeros(z)),
                "the rule passes the incoming signal R, not the forward input z."),
        Mistake("the ReLU of the forward input", lambda z, R: torch.relu(z),
                "that is the ReLU's forward pass; the backward rule acts on the incoming signal R: [R > 0] R."),
    ),
)


def check_deconv_relu_grad(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_deconv_relu_grad(z, R)``: the deconvnet rule :math:`R^{l} = [R^{l+1} > 0]\,R^{l+1}`.

    ``z`` is the ReLU's input and ``R`` the incoming signal :math:`R^{l+1}`,
    tensors of the same shape; the function returns :math:`R^l`, same shape.

    >>> check_deconv_relu_grad(lambda z, R: torch.where(R > 0, R, 0.0)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
