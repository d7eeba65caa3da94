r"""Chapter 11's transfer task: Spearman's rank correlation of two maps, ties included.

The reader writes ``my_rank_correlation(a, b)``, Spearman's :math:`\rho`: the
Pearson correlation of the pixels' ranks, where tied values share the mean of
the ranks they occupy — compared with :func:`tutorial_utils.metrics.rank_correlation`.
The chapter's sanity check used that helper without opening it; the maps it
compares are full of ties (Grad-CAM's zeros after its ReLU, SeCAM's superpixels),
and so are the test inputs here, beside one map without ties, where the
shortcut formula :math:`1 - 6\sum d^2 / (n(n^2 - 1))` is exact.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_rank_correlation"]


def _rank_reference(a, b):
    from tutorial_utils.metrics import rank_correlation

    return rank_correlation(a, b)


def _ordinal_ranks(v):
    return np.argsort(np.argsort(v.ravel(), kind="stable"), kind="stable").astype(float)


def _mean_ranks(v):
    v = v.ravel()
    ranks = _ordinal_ranks(v)
    out = np.empty_like(ranks)
    for value in np.unique(v):
        tied = v == value
        out[tied] = ranks[tied].mean()
    return out


def _pearson(u, v):
    return float(np.corrcoef(u.ravel(), v.ravel())[0, 1])


def _shortcut_formula(ra, rb):
    n = ra.size
    return 1 - 6 * np.sum((ra - rb) ** 2) / (n * (n ** 2 - 1))


def _rank_cases():
    rng = np.random.default_rng(11)
    # Maps with ties, like Grad-CAM after its ReLU: many zeros, and a few repeated values.
    a = np.maximum(rng.normal(size=(5, 6)), 0)
    b = np.maximum(a + rng.normal(scale=0.8, size=(5, 6)), 0)
    c = np.round(rng.normal(size=(4, 7)), 0) ** 3
    d = np.round(c + rng.normal(scale=1.5, size=(4, 7)), 0)
    # No ties, and values far from their ranks.
    e = np.exp(2 * rng.normal(size=(3, 5)))
    f = e + np.exp(2 * rng.normal(size=(3, 5)))
    return [make_case(a=a, b=b), make_case(a=c, b=d), make_case(a=e, b=f)]


EXERCISE = Exercise(
    id="rank_correlation",
    chapter="11_faithfulness",
    function="my_rank_correlation",
    signature="my_rank_correlation(a, b)",
    title="Spearman's rank correlation of two maps",
    reference_name="rank_correlation",
    reference=_rank_reference,
    cases=_rank_cases,
    returns="scalar",
    kind="transfer",
    mistakes=(
        Mistake("Pearson of the values, not of the ranks", lambda a, b: _pearson(a, b),
                "Spearman's ρ correlates the *ranks* of the pixels, not their values: rank each map first."),
        Mistake("argsort once: positions, not ranks",
                lambda a, b: _pearson(np.argsort(a.ravel(), kind="stable"), np.argsort(b.ravel(), kind="stable")),
                "`np.argsort(v)` lists *which pixel* comes first, second, …; the rank of each pixel is "
                "`np.argsort(np.argsort(v))` (then average it over ties)."),
        Mistake("ties not averaged", lambda a, b: _pearson(_ordinal_ranks(a), _ordinal_ranks(b)),
                "tied values must share the mean of the ranks they occupy: three zeros on ranks 0, 1, 2 all get 1. "
                "Without that, the order inside a tie — an accident of position — enters ρ."),
        Mistake("the formula 1 − 6Σd²/(n(n²−1)) with ties",
                lambda a, b: _shortcut_formula(_mean_ranks(a), _mean_ranks(b)),
                "that formula is exact only without ties; with ties take Pearson's correlation of the mean ranks."),
    ),
)


def check_rank_correlation(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_rank_correlation(a, b)``: Spearman's :math:`\rho`, Pearson's correlation of the ranks, ties averaged.

    ``a`` and ``b`` are float arrays of the same shape ``H×W`` (two maps, none
    of them constant); the function returns one number in :math:`[-1, 1]`,
    compared with :func:`rank_correlation`.

    >>> from scipy.stats import rankdata
    >>> check_rank_correlation(lambda a, b: np.corrcoef(rankdata(a), rankdata(b))[0, 1]).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
