r"""Chapter 12's transfer task: what occlusion sensitivity costs, in forward passes.

Occlusion sensitivity greys out a square patch of the image, runs the model,
and records how much the class probability falls; it slides the patch over the
image by a fixed stride, and runs the model once more on the untouched image
for the probability to compare with. The reader writes
``my_occlusion_passes(H, W, patch, stride)``, the number of forward passes for
an ``H×W`` image when the patch only takes positions where it lies entirely
inside the image:

.. math:: 1 + \Big(\Big\lfloor\frac{H - p}{s}\Big\rfloor + 1\Big)\Big(\Big\lfloor\frac{W - p}{s}\Big\rfloor + 1\Big).

The reference is not this formula: it walks the patch over the image, as an
implementation would, and counts the images it would send to the model. The
test images are not square, and their sides minus the patch are not multiples
of the stride, so that rounding up and rounding down differ.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import math

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_occlusion_passes"]


def _occlusion_reference(H, W, patch, stride):
    """Count the images an occlusion loop sends to the model: the untouched one, then one per patch position."""
    images = 1  # the untouched image
    for top in range(0, H - patch + 1, stride):
        for left in range(0, W - patch + 1, stride):
            images += 1  # the image with pixels [top : top + patch, left : left + patch] greyed out
    return images


def _occlusion_cases():
    return [
        make_case(H=42, W=64, patch=8, stride=5),
        make_case(H=224, W=160, patch=32, stride=12),
        make_case(H=30, W=50, patch=10, stride=10),
    ]


EXERCISE = Exercise(
    id="occlusion_passes",
    chapter="12_benchmark",
    function="my_occlusion_passes",
    signature="my_occlusion_passes(H, W, patch, stride)",
    title="what occlusion sensitivity costs",
    reference_name="a count of the images an occlusion loop sends to the model",
    reference=_occlusion_reference,
    cases=_occlusion_cases,
    returns="scalar",
    rtol=1e-9,
    atol=0.0,
    kind="transfer",
    mistakes=(
        Mistake("forgot the untouched image", lambda H, W, p, s: ((H - p) // s + 1) * ((W - p) // s + 1),
                "the probabilities are compared with the one on the untouched image: one more forward pass."),
        Mistake("the patch runs past the border", lambda H, W, p, s: math.ceil(H / s) * math.ceil(W / s) + 1,
                "the patch must lie entirely inside the image: its top-left corner goes from 0 to H − patch, "
                "not to H."),
        Mistake("one position too few per side", lambda H, W, p, s: ((H - p) // s) * ((W - p) // s) + 1,
                "the fencepost: positions 0, s, 2s, … up to H − patch are ⌊(H − patch)/s⌋ + 1 positions, "
                "counting the first."),
        Mistake("rounded up", lambda H, W, p, s: (math.ceil((H - p) / s) + 1) * (math.ceil((W - p) / s) + 1) + 1,
                "a last step that would push the patch past the border is not taken: round (H − patch)/stride down."),
        Mistake("the height used for both sides", lambda H, W, p, s: ((H - p) // s + 1) ** 2 + 1,
                "the image need not be square: count the positions along the height and along the width separately."),
        Mistake("one pass per pixel of the patch's path", lambda H, W, p, s: (H - p + 1) * (W - p + 1) + 1,
                "the patch moves by `stride` pixels at a time, not one: divide the distance it travels by the stride."),
    ),
)


def check_occlusion_passes(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_occlusion_passes(H, W, patch, stride)``: the forward passes of occlusion sensitivity.

    The patch (``patch×patch`` pixels) moves over an ``H×W`` image by
    ``stride`` pixels at a time, along the height and the width, only to
    positions where it lies entirely inside the image; the model runs once per
    position and once on the untouched image. The function returns that number
    of forward passes, compared with a loop that counts them.

    >>> check_occlusion_passes(lambda H, W, p, s: 1 + ((H - p) // s + 1) * ((W - p) // s + 1)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
