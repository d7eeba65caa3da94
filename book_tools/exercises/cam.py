r"""Chapter 3's auto-checked exercise: the class activation map :math:`M_c(x, y) = \sum_k w_k^c f_k(x, y)`.

The reader writes ``my_cam(f, W, c)``; :func:`check_cam` compares it with
:func:`tutorial_utils.cam.class_activation_map` on maps that are mostly not
square, with as many, more and fewer classes than channels, so that
transposed weights or a sum over the wrong axis give a result of their own.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_cam"]


def _cam_reference(f, W, c):
    from tutorial_utils.cam import class_activation_map

    return class_activation_map(f, W, c)


def _cam_raw(f, W, c):
    return (W[c][:, None, None] * f[0]).sum(dim=0)


def _cam_minmax(f, W, c):
    M = _cam_raw(f, W, c)
    return (M - M.min()) / (M.max() - M.min())


def _cam_cases():
    rng = np.random.default_rng(3)

    def case(K, classes, h, w, c):
        return make_case(f=float_tensor(2 * rng.random((1, K, h, w))), W=float_tensor(rng.normal(size=(classes, K))),
                         c=c)

    return [case(6, 6, 4, 5, 2), case(8, 10, 5, 6, 3), case(5, 3, 3, 3, 2)]


EXERCISE = Exercise(
    id="cam",
    chapter="03_cam",
    function="my_cam",
    signature="my_cam(f, W, c)",
    title="your own cam()",
    reference_name="class_activation_map",
    reference=_cam_reference,
    cases=_cam_cases,
    mistakes=(
        Mistake("kept the batch dimension", lambda f, W, c: (W[c][:, None, None] * f).sum(dim=1),
                "the map has no batch dimension: work with `f[0]`, shape K × h × w."),
        Mistake("transposed weights", lambda f, W, c: (W[:, c][:, None, None] * f[0]).sum(dim=0),
                "you used `W[:, c]`, the weights of channel c for every class; the weights of class c are the row `W[c]`."),
        Mistake("summed over the wrong axis", lambda f, W, c: (W[c][:, None, None] * f[0]).sum(dim=1),
                "sum over the channels (axis 0 of `f[0]`), which leaves an h × w map."),
        Mistake("averaged over the channels", lambda f, W, c: (W[c][:, None, None] * f[0]).mean(dim=0),
                "`M_c = Σ_k w_k^c f_k` is a sum over the channels, not a mean."),
        Mistake("divided by the number of cells", lambda f, W, c: _cam_raw(f, W, c) / (f.shape[-2] * f.shape[-1]),
                "no division by h·w: the map's *mean* plus the bias is the logit, the map itself is not averaged."),
        Mistake("applied a ReLU", lambda f, W, c: torch.relu(_cam_raw(f, W, c)),
                "return the raw map: its negative values are evidence against the class, keep them."),
        Mistake("normalised the map", lambda f, W, c: torch.relu(_cam_raw(f, W, c)) / _cam_raw(f, W, c).max(),
                "return the raw map: `normalise` (ReLU, then divide by the maximum) comes later, for drawing."),
        Mistake("min-max scaled the map", _cam_minmax,
                "return the raw map, in the units of the logit: scaling to [0, 1] comes later, for drawing."),
    ),
    error_hints=(
        ("must match the size", "W is classes × K: the weights of class c are the row `W[c]` (K values, one per channel)."),
    ),
)


def check_cam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_cam(f, W, c)``: the class activation map :math:`M_c(x,y) = \sum_k w_k^c f_k(x,y)`.

    ``f`` is a tensor ``1×K×h×w`` (as from ``model.forward_features``), ``W``
    the weights ``classes×K`` (``model.fc_weight``) and ``c`` a class index;
    the function returns the raw ``h×w`` map (NumPy array or tensor), compared
    with :func:`class_activation_map`.

    >>> check_cam(lambda f, W, c: (W[c][:, None, None] * f[0]).sum(dim=0)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
