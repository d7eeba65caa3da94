r"""Chapter 11's auto-checked exercise: Average Drop, :math:`\mathrm{AD} = \frac{100}{N}\sum_i \max(0, Y_i - O_i)/Y_i`.

The reader writes ``my_average_drop(Y, O)``, compared with
:func:`tutorial_utils.metrics.average_drop`. In the test inputs some
probabilities rise on the explanation map, so that a forgotten
``max(0, ·)`` shows.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_average_drop"]


def _ad_reference(Y, O):
    from tutorial_utils.metrics import average_drop

    return average_drop(Y, O)


def _ad_cases():
    return [
        make_case(Y=np.array([0.9, 0.6, 0.75, 0.3, 0.5]), O=np.array([0.4, 0.7, 0.2, 0.35, 0.1])),
        make_case(Y=np.array([0.8, 0.45, 0.6]), O=np.array([0.6, 0.05, 0.9])),
    ]


EXERCISE = Exercise(
    id="average_drop",
    chapter="11_faithfulness",
    function="my_average_drop",
    signature="my_average_drop(Y, O)",
    title="Average Drop",
    reference_name="average_drop",
    reference=_ad_reference,
    cases=_ad_cases,
    returns="scalar",
    mistakes=(
        Mistake("forgot max(0, ·)", lambda Y, O: 100 * np.mean((Y - O) / Y),
                "an image whose probability *rises* counts as a drop of 0: use `np.maximum(0, Y - O)`."),
        Mistake("max(0, O − Y): the rise, not the drop", lambda Y, O: 100 * np.mean(np.maximum(0, O - Y) / Y),
                "the drop is Y − O, the full image's probability minus the explanation map's."),
        Mistake("divided by O instead of Y", lambda Y, O: 100 * np.mean(np.maximum(0, Y - O) / O),
                "the drop is relative to the probability on the full image: divide by Y."),
        Mistake("not in percent", lambda Y, O: np.mean(np.maximum(0, Y - O) / Y),
                "Average Drop is in %: multiply by 100."),
        Mistake("absolute drop, not relative", lambda Y, O: 100 * np.mean(np.maximum(0, Y - O)),
                "divide each drop by Y, the probability on the full image."),
        Mistake("absolute difference", lambda Y, O: 100 * np.mean(np.abs(Y - O) / Y),
                "only drops count: `np.maximum(0, Y - O)`, not `abs(Y - O)`."),
        Mistake("sum instead of mean", lambda Y, O: 100 * np.sum(np.maximum(0, Y - O) / Y),
                "average over the N images: `np.mean`, not `np.sum`."),
        Mistake("ratio of the means", lambda Y, O: 100 * max(0.0, np.mean(Y) - np.mean(O)) / np.mean(Y),
                "compute the relative drop of each image first, then average the drops."),
    ),
    error_hints=(
        ("truth value of an array", "Python's `max` compares whole arrays: use `np.maximum(0, Y - O)`, element by element."),
    ),
)


def check_average_drop(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_average_drop(Y, O)``: :math:`\mathrm{AD} = \frac{100}{N}\sum_i \max(0, Y_i - O_i)/Y_i`.

    ``Y`` and ``O`` are NumPy arrays of ``N`` probabilities: the class
    probability on each full image and on its explanation map. The function
    returns one number, in %, compared with :func:`average_drop`.

    >>> check_average_drop(lambda Y, O: 100 * np.mean(np.maximum(0, Y - O) / Y)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
