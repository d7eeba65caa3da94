r"""Chapter 5's auto-checked exercise: SeCAM, the map's mean inside each superpixel.

The reader writes ``my_secam(cam, segments)``,
:math:`\bar M_c(s) = \frac{1}{|s|} \sum_{(x, y) \in s} M_c(x, y)` painted on every
pixel of :math:`s`, compared with :func:`tutorial_utils.secam.secam`. The
labels of the first test segmentation have gaps and start at 3, and the last
is one superpixel labelled 7: a segmentation's labels need not be 0 … n−1.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_secam"]


def _secam_reference(cam, segments):
    from tutorial_utils.secam import secam

    return secam(cam, segments)


def _secam_by(reduce):
    def wrong(cam, segments):
        out = np.zeros(np.shape(cam))
        for s in np.unique(segments):
            out[segments == s] = reduce(cam[segments == s])
        return out

    return wrong


def _secam_labels_from(start):
    def wrong(cam, segments):
        out = np.zeros(np.shape(cam))
        n = len(np.unique(segments))
        for s in range(start, start + n):
            if (segments == s).any():
                out[segments == s] = cam[segments == s].mean()
        return out

    return wrong


def _secam_cases():
    rng = np.random.default_rng(5)
    gaps = np.array([3, 5, 8, 11, 20])
    seg1 = gaps[np.repeat(np.arange(5), 9)[rng.permutation(45)][:42].reshape(6, 7)]
    seg2 = np.repeat(np.repeat(np.array([[0, 1], [2, 3]]), 3, axis=0), 2, axis=1)[:5, :4]
    return [
        make_case(cam=rng.normal(size=(6, 7)), segments=seg1),
        make_case(cam=rng.normal(size=(5, 4)), segments=seg2),
        make_case(cam=rng.normal(size=(3, 4)), segments=np.full((3, 4), 7)),
    ]


EXERCISE = Exercise(
    id="secam",
    chapter="05_secam",
    function="my_secam",
    signature="my_secam(cam, segments)",
    title="SeCAM: the map's mean inside each superpixel",
    reference_name="secam",
    reference=_secam_reference,
    cases=_secam_cases,
    mistakes=(
        Mistake("sum instead of mean", _secam_by(np.sum),
                "divide each superpixel's sum by its number of pixels |s|."),
        Mistake("max instead of mean", _secam_by(np.max),
                "SeCAM gives every pixel the *mean* of the map over its superpixel, not the maximum."),
        Mistake("median instead of mean", _secam_by(np.median),
                "SeCAM gives every pixel the *mean* of the map over its superpixel, not the median."),
        Mistake("labels assumed to be 0 … n−1", _secam_labels_from(0),
                "the labels need not be 0 … n−1 (here they have gaps and do not start at 0): loop over "
                "`np.unique(segments)`, or renumber them with `np.unique(segments, return_inverse=True)`."),
        Mistake("labels assumed to start at 1", _secam_labels_from(1),
                "the labels need not be 1 … n (here they have gaps): loop over `np.unique(segments)`, or renumber "
                "them with `np.unique(segments, return_inverse=True)`."),
        Mistake("one value per superpixel", lambda cam, segments: np.array([cam[segments == s].mean() for s in np.unique(segments)]),
                "give every pixel its superpixel's mean: index the means with the pixels' superpixel numbers "
                "(`means[index]`) to paint them back into an H × W map."),
        Mistake("the mean of the whole map", lambda cam, segments: np.full(np.shape(cam), np.mean(cam)),
                "average inside each superpixel separately, not over the whole map."),
    ),
    error_hints=(
        ("negative", "`np.bincount` needs labels 0 … n−1: renumber them with `np.unique(segments, return_inverse=True)`."),
    ),
)


def check_secam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_secam(cam, segments)``: :math:`\bar M_c(s) = \frac{1}{|s|} \sum_{(x, y) \in s} M_c(x, y)` painted on every pixel of ``s``.

    ``cam`` is a float array ``H×W``, ``segments`` an integer label array of the
    same shape whose labels may have gaps and need not start at 0. The function
    returns an ``H×W`` array, compared with :func:`secam`.

    >>> def my_secam(cam, segments):
    ...     _, index = np.unique(segments, return_inverse=True)
    ...     index = index.reshape(segments.shape)
    ...     return (np.bincount(index.ravel(), cam.ravel()) / np.bincount(index.ravel()))[index]
    >>> check_secam(my_secam).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
