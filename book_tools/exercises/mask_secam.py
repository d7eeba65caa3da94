r"""Chapter 5's transfer task: SeCAM over a mask instead of superpixels.

A segmentation network, or a person, gives an object mask instead of
superpixels. The reader writes ``my_mask_secam(cam, mask)``: every pixel gets
the mean of the map over its region — the object (``mask`` true) or the
background (``mask`` false). That is SeCAM with two "superpixels", and it keeps
the map's total just as SeCAM does. The masks of the test inputs cover much
less or much more than half of the map, so that sums and means, or means over
the region and over the whole map, give different numbers.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_mask_secam"]


def _reference(cam, mask):
    from tutorial_utils.secam import secam

    return secam(np.asarray(cam, dtype=np.float64), np.asarray(mask).astype(np.int64))


def _two_values(inside, outside):
    """A wrong answer that paints ``inside(cam, mask)`` on the object and ``outside(cam, mask)`` elsewhere."""
    def wrong(cam, mask):
        cam, mask = np.asarray(cam, dtype=np.float64), np.asarray(mask, dtype=bool)
        return np.where(mask, inside(cam, mask), outside(cam, mask))

    return wrong


def _cases():
    rng = np.random.default_rng(19)
    small = np.zeros((6, 8), dtype=bool)
    small[1:3, 2:5] = True                       # a small object: 6 of 48 pixels
    large = np.ones((5, 7), dtype=bool)
    large[0, :] = large[:, 0] = False            # a large one: 24 of 35 pixels
    blob = rng.random((9, 6)) < 0.3              # scattered pixels, not a rectangle
    return [
        make_case(cam=rng.normal(1.0, 2.0, (6, 8)), mask=small),
        make_case(cam=rng.normal(-0.5, 1.5, (5, 7)), mask=large),
        make_case(cam=rng.normal(0.3, 1.0, (9, 6)), mask=blob),
    ]


EXERCISE = Exercise(
    id="mask_secam",
    chapter="05_secam",
    function="my_mask_secam",
    signature="my_mask_secam(cam, mask)",
    title="SeCAM over a mask: the map's mean on the object and on the background",
    reference_name="secam(cam, mask.astype(int))",
    reference=_reference,
    cases=_cases,
    kind="transfer",
    mistakes=(
        Mistake("zero outside the mask",
                _two_values(lambda cam, mask: cam[mask].mean(), lambda cam, mask: 0.0),
                "the background is a region too: give its pixels the mean of the map over the background, "
                "`cam[~mask].mean()` — a zero there throws its evidence away and changes the map's total."),
        Mistake("the object's mean everywhere",
                _two_values(lambda cam, mask: cam[mask].mean(), lambda cam, mask: cam[mask].mean()),
                "each pixel gets the mean of *its own* region: the object's for pixels in the mask, the "
                "background's (`cam[~mask].mean()`) for the others."),
        Mistake("sum instead of mean",
                _two_values(lambda cam, mask: cam[mask].sum(), lambda cam, mask: cam[~mask].sum()),
                "divide each region's sum by its number of pixels: a sum favours the bigger region whatever "
                "the evidence in it."),
        Mistake("divided by every pixel of the map",
                _two_values(lambda cam, mask: (cam * mask).mean(), lambda cam, mask: (cam * ~mask).mean()),
                "`(cam * mask).mean()` divides the object's sum by all H·W pixels; divide by the object's own "
                "size, `mask.sum()` — or take `cam[mask].mean()`."),
        Mistake("object and background swapped",
                _two_values(lambda cam, mask: cam[~mask].mean(), lambda cam, mask: cam[mask].mean()),
                "pixels where `mask` is true get the object's mean, `cam[mask].mean()`; the others the background's."),
        Mistake("the mean of the whole map",
                _two_values(lambda cam, mask: cam.mean(), lambda cam, mask: cam.mean()),
                "average inside each region separately, not over the whole map."),
    ),
)


def check_mask_secam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_mask_secam(cam, mask)``: the map's mean over the object and over the background, painted back.

    ``cam`` is a float array ``H×W``, ``mask`` a boolean array of the same
    shape (true on the object, with object and background both non-empty).
    The function returns an ``H×W`` array: on every pixel the mean of ``cam``
    over the region it belongs to — SeCAM with the mask's two regions as its
    superpixels, compared with :func:`~tutorial_utils.secam.secam`.

    >>> def my_mask_secam(cam, mask):
    ...     return np.where(mask, cam[mask].mean(), cam[~mask].mean())
    >>> check_mask_secam(my_mask_secam).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
