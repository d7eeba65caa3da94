r"""Chapter 10's transfer task: the pointing game, a hit when a map's maximum lies on the region.

The reader writes ``my_pointing_game(heatmap, mask)``: ``True`` when the pixel
where the map is largest, :math:`\arg\max_{x,y} M(x, y)`, lies inside the
region :math:`R`, else ``False``. The chapter measured *how much* of a map's
positive mass falls on a region; the pointing game asks only *where its peak
is* — the same question of where a map points, scored in another way.

The test maps are not square, so that rows and columns swapped give a wrong
pixel (and not the right one by symmetry), and each input is built so that one
mistake, and none listed before it, goes wrong on it: a hit or a miss has only
two values, so two mistakes that go wrong on the same input look alike.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_pointing_game"]


def _pointing_reference(heatmap, mask):
    row, col = np.unravel_index(np.argmax(heatmap), np.shape(heatmap))
    return bool(mask[row, col])


def _positive_share(M, R):
    positive = np.maximum(M, 0)
    return positive[R].sum() / positive.sum()


def _pointing_cases():
    rng = np.random.default_rng(18)

    def case(shape, peak, low, inside, values=()):
        """A map of small noise with its maximum at ``peak`` and its minimum at ``low``; ``inside`` is the region."""
        M = 0.1 * rng.standard_normal(shape)
        R = np.zeros(shape, bool)
        R[inside] = True
        for where, value in values:
            M[where] = value
        M[peak], M[low] = 3.0, -2.0
        return make_case(heatmap=M, mask=R)

    return [
        # A hit; the minimum lies outside the region: argmin says "miss".
        case((4, 6), peak=(1, 2), low=(3, 5), inside=(slice(0, 3), slice(0, 4))),
        # A hit at (0, 4) whose transposed pixel (4, 0) is outside the region.
        case((5, 7), peak=(0, 4), low=(0, 5), inside=(slice(0, 2), slice(3, 7)),
             values=[((slice(0, 2), slice(3, 7)), 1.0)]),
        # A miss, though the region's mean is higher than the rest's.
        case((4, 7), peak=(3, 2), low=(3, 0), inside=(slice(0, 2), slice(0, 2)),
             values=[((slice(0, 2), slice(0, 2)), 0.5)]),
        # A hit on a small peak, though most of the positive mass lies outside the region.
        case((5, 6), peak=(2, 2), low=(2, 3), inside=(slice(2, 3), slice(2, 4)),
             values=[((slice(None), slice(None)), 0.4)]),
    ]


EXERCISE = Exercise(
    id="pointing_game",
    chapter="10_shortcut",
    function="my_pointing_game",
    signature="my_pointing_game(heatmap, mask)",
    title="the pointing game",
    reference_name="the pointing game (is the map's maximum inside the region?)",
    reference=_pointing_reference,
    cases=_pointing_cases,
    returns="scalar",
    kind="transfer",
    mistakes=(
        Mistake("argmin instead of argmax",
                lambda M, R: bool(R[np.unravel_index(np.argmin(M), M.shape)]),
                "the map points where it is *largest*: `np.argmax`, not `np.argmin`."),
        Mistake("rows and columns swapped",
                lambda M, R: bool(R[np.unravel_index(np.argmax(M), M.shape)[::-1]]),
                "`np.unravel_index(np.argmax(heatmap), heatmap.shape)` gives (row, column); "
                "index the mask as `mask[row, col]`, not `mask[col, row]` — on a square map the swap can go unnoticed."),
        Mistake("mean inside higher than mean outside",
                lambda M, R: bool(M[R].mean() > M[~R].mean()),
                "the pointing game looks at one pixel, the map's maximum, not at averages over the region."),
        Mistake("more than half of the positive mass inside",
                lambda M, R: bool(_positive_share(M, R) > 0.5),
                "that is the chapter's share of positive mass, thresholded; the pointing game asks only "
                "whether the single largest value lies in the region."),
    ),
    error_hints=(
        ("out of bounds", "rows and columns swapped? `np.unravel_index` gives (row, column): index `mask[row, col]`."),
        ("unravel_index", "`np.argmax` of a 2-D array is a flat index: turn it into (row, column) with "
                          "`np.unravel_index(i, heatmap.shape)`."),
    ),
)


def check_pointing_game(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_pointing_game(heatmap, mask)``: a hit when :math:`\arg\max_{x,y} M(x, y) \in R`.

    ``heatmap`` is a float array ``H×W`` (not necessarily square), ``mask`` a
    boolean array of the same shape (the region :math:`R`). The function
    returns ``True`` (a hit) when the pixel with the map's largest value lies
    inside the region, else ``False``.

    >>> def my_pointing_game(heatmap, mask):
    ...     row, col = np.unravel_index(np.argmax(heatmap), heatmap.shape)
    ...     return bool(mask[row, col])
    >>> check_pointing_game(my_pointing_game).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
