r"""Chapter 8's auto-checked exercise: the Seg-Grad-CAM target, :math:`y^c = \sum_{(i,j) \in M} y^c_{ij}`.

The reader writes ``my_seg_target(logits, c)``, the sum of class :math:`c`'s
logits over the pixels :math:`M` where :math:`c` wins the argmax — the score that
chapter 8 gives :func:`tutorial_utils.grad_cam` as its ``target``. One test input
has a class that wins nowhere: the target is then 0, the sum over nothing.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_seg_target"]


def _seg_reference(logits, c):
    M = logits.argmax(dim=1)[0] == c
    return logits[0, c][M].sum()


def _seg_cases():
    rng = np.random.default_rng(8)
    absent = rng.normal(size=(1, 4, 4, 5)) * 2
    absent[0, 3] -= 10  # class 3 wins nowhere
    return [
        make_case(logits=float_tensor(rng.normal(size=(1, 4, 5, 6)) * 2), c=2),
        make_case(logits=float_tensor(absent), c=3),
        make_case(logits=float_tensor(rng.normal(size=(1, 3, 4, 4)) * 2), c=0),
    ]


EXERCISE = Exercise(
    id="seg_target",
    chapter="08_segmentation",
    function="my_seg_target",
    signature="my_seg_target(logits, c)",
    title="the Seg-Grad-CAM target",
    reference_name="the Seg-Grad-CAM target Σ_(i,j)∈M y^c_ij",
    reference=_seg_reference,
    cases=_seg_cases,
    returns="scalar",
    mistakes=(
        Mistake("mean instead of sum", lambda logits, c: logits[0, c][logits.argmax(dim=1)[0] == c].mean(),
                "the target is the *sum* over M, not the mean (a larger region gives a larger target: see the pitfalls)."),
        Mistake("no mask", lambda logits, c: logits[0, c].sum(),
                "sum only over M, the pixels predicted as c: `logits.argmax(1)[0] == c`."),
        Mistake("every class summed", lambda logits, c: logits[0][:, logits.argmax(dim=1)[0] == c].sum(),
                "take class c's logits only, `logits[0, c]`, at the pixels of M."),
        Mistake("probabilities instead of logits", lambda logits, c: logits.softmax(dim=1)[0, c][logits.argmax(dim=1)[0] == c].sum(),
                "sum the logits y^c_ij themselves, not the softmax probabilities."),
        Mistake("mask from positive logits", lambda logits, c: logits[0, c][logits[0, c] > 0].sum(),
                "M is where class c wins the argmax over the classes, not where its logit is positive."),
        Mistake("did not sum", lambda logits, c: logits[0, c][logits.argmax(dim=1)[0] == c],
                "add up the selected logits with `.sum()`: the target is one number."),
    ),
)


def check_seg_target(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_seg_target(logits, c)``: :math:`y^c = \sum_{(i,j) \in M} y^c_{ij}` with :math:`M = \{(i,j) : \arg\max_{c'} y^{c'}_{ij} = c\}`.

    ``logits`` is a tensor ``1×classes×H×W`` (a segmentation network's output)
    and ``c`` a class; the function returns one number (a 0-d tensor, so that
    it can be differentiated). A class predicted nowhere gives 0, the sum over nothing.

    >>> check_seg_target(lambda logits, c: logits[0, c][logits.argmax(1)[0] == c].sum()).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
