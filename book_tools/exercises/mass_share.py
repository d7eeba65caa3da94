r"""Chapter 10's auto-checked exercise: the share of a map's positive mass on a region.

The reader writes ``my_mass_share(heatmap, mask)``,
:math:`\text{share}(R) = \sum_{(x,y)\in R} M^+(x,y) / \sum_{x,y} M^+(x,y)`,
compared with :func:`tutorial_utils.maps.positive_mass_share`. One test map
has no positive value at all: its share is 0, never NaN.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_mass_share"]


def _mass_reference(heatmap, mask):
    from tutorial_utils.maps import positive_mass_share

    return positive_mass_share(heatmap, mask)


def _mass_cases():
    rng = np.random.default_rng(10)
    return [
        make_case(heatmap=rng.normal(size=(5, 6)), mask=rng.random((5, 6)) < 0.3),
        make_case(heatmap=-np.abs(rng.normal(size=(4, 4))), mask=rng.random((4, 4)) < 0.5),
        make_case(heatmap=rng.normal(size=(3, 5)) + 0.5, mask=np.eye(3, 5, dtype=bool)),
    ]


EXERCISE = Exercise(
    id="mass_share",
    chapter="10_shortcut",
    function="my_mass_share",
    signature="my_mass_share(heatmap, mask)",
    title="the share of a map's positive mass on a region",
    reference_name="positive_mass_share",
    reference=_mass_reference,
    cases=_mass_cases,
    returns="scalar",
    mistakes=(
        # First: on a map with no positive value several mistakes give NaN, and this is the one to name.
        Mistake("NaN for a map with no positive value", lambda M, R: np.maximum(M, 0)[R].sum() / np.maximum(M, 0).sum(),
                "a map with no positive value has no positive mass: return 0 there, not 0/0 = NaN "
                "(test `if total == 0`, as positive_mass_share does)."),
        Mistake("negatives not clipped", lambda M, R: M[R].sum() / M.sum(),
                "take the positive part first, M⁺ = max(M, 0): negative evidence must not cancel positive evidence."),
        Mistake("absolute values", lambda M, R: np.abs(M)[R].sum() / np.abs(M).sum(),
                "use the positive part max(M, 0), not |M|: negative values are evidence *against* the class."),
        Mistake("mean inside the region", lambda M, R: np.maximum(M, 0)[R].mean(),
                "divide by the total positive mass Σ M⁺ over the whole map, not by the number of pixels in R."),
        Mistake("the area of the region", lambda M, R: R.mean(),
                "that is the share of the *area*, what a map spread evenly would score; weigh the pixels by M⁺."),
        Mistake("counted positive pixels", lambda M, R: ((M > 0) & R).sum() / (M > 0).sum(),
                "sum the values of M⁺, do not count the positive pixels."),
        Mistake("inside over outside", lambda M, R: np.maximum(M, 0)[R].sum() / np.maximum(M, 0)[~R].sum(),
                "divide by the total positive mass, inside and outside R together."),
    ),
)


def check_mass_share(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_mass_share(heatmap, mask)``: :math:`\text{share}(R) = \sum_{(x,y)\in R} M^+(x,y) / \sum_{x,y} M^+(x,y)`.

    ``heatmap`` is a float array ``H×W``, ``mask`` a boolean array of the same
    shape (the region :math:`R`); :math:`M^+ = \max(M, 0)`. The function returns
    one number; a map with no positive value scores 0, never NaN — as
    :func:`positive_mass_share`.

    >>> def my_mass_share(heatmap, mask):
    ...     positive = np.maximum(heatmap, 0)
    ...     total = positive.sum()
    ...     return positive[mask].sum() / total if total > 0 else 0.0
    >>> check_mass_share(my_mass_share).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
