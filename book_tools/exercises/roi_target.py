r"""Chapter 8's transfer task: the Seg-Grad-CAM target over a region of interest, for a batch of images.

The reader writes ``my_roi_target(logits, c, roi)``: for a batch of
segmentation outputs ``logits`` (``B×classes×H×W``) and one region of interest
per image (``roi``, boolean ``B×H×W``), the target of each image,
:math:`y^c_b = \sum_{(i,j) \in R_b} y^c_{b,ij}` — a ``target`` that
``grad_cam(model, x, target)`` differentiates for the whole batch at once. The
region *replaces* the default :math:`M`: every pixel of it counts, whatever class
the network predicts there. The test inputs have regions that differ from image to
image, cover pixels predicted as other classes, and one image whose region is
empty (its target is 0).

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_roi_target"]


def _roi_reference(logits, c, roi):
    return (logits[:, c] * roi).sum(dim=(1, 2))


def _roi_cases():
    rng = np.random.default_rng(18)

    def case(B, classes, H, W, c, empty=None):
        roi = rng.random((B, H, W)) < 0.4
        if empty is not None:
            roi[empty] = False
        return make_case(logits=float_tensor(rng.normal(size=(B, classes, H, W)) * 2 + 0.5), c=c,
                         roi=torch.from_numpy(roi))

    return [case(3, 4, 5, 6, 2), case(2, 3, 4, 4, 0, empty=1), case(4, 4, 3, 5, 3)]


def _predicted(logits, c):
    return logits.argmax(dim=1) == c


EXERCISE = Exercise(
    id="roi_target",
    chapter="08_segmentation",
    function="my_roi_target",
    signature="my_roi_target(logits, c, roi)",
    title="the Seg-Grad-CAM target over a region of interest, for a batch",
    reference_name="the target Σ_(i,j)∈R y^c_ij of each image",
    reference=_roi_reference,
    cases=_roi_cases,
    returns="tensor",
    kind="transfer",
    mistakes=(
        Mistake("kept the default M as well", lambda logits, c, roi: (logits[:, c] * (roi & _predicted(logits, c))).sum(dim=(1, 2)),
                "the region *replaces* M: sum y^c over every pixel of roi, also where the network predicts another class."),
        Mistake("mean instead of sum", lambda logits, c, roi: torch.stack([logits[b, c][roi[b]].mean() for b in range(len(logits))]),
                "the target is the *sum* over the region (and the mean of an empty region is NaN, where the sum is 0)."),
        Mistake("summed over the whole batch", lambda logits, c, roi: (logits[:, c] * roi).sum(),
                "return one target per image, shape B: sum over the pixels only, `dim=(1, 2)`."),
        Mistake("first image's region for every image", lambda logits, c, roi: (logits[:, c] * roi[0]).sum(dim=(1, 2)),
                "each image has its own region: multiply `logits[:, c]` by `roi` (B×H×W), not by `roi[0]`."),
        Mistake("no region", lambda logits, c, roi: logits[:, c].sum(dim=(1, 2)),
                "sum only over the pixels of the region: multiply by `roi` (or index with it) before summing."),
        Mistake("probabilities instead of logits", lambda logits, c, roi: (logits.softmax(dim=1)[:, c] * roi).sum(dim=(1, 2)),
                "sum the logits y^c_ij themselves, not the softmax probabilities."),
        Mistake("every class summed", lambda logits, c, roi: (logits.sum(dim=1) * roi).sum(dim=(1, 2)),
                "take class c's logits only, `logits[:, c]`, over the region."),
    ),
)


def check_roi_target(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_roi_target(logits, c, roi)``: :math:`y^c_b = \sum_{(i,j) \in R_b} y^c_{b,ij}` for each image ``b``.

    ``logits`` is a tensor ``B×classes×H×W`` (a segmentation network's output
    for ``B`` images), ``c`` a class and ``roi`` a boolean tensor ``B×H×W``, one
    region per image; the function returns a tensor of ``B`` targets. The region
    replaces the default :math:`M`; an empty region gives 0.

    >>> check_roi_target(lambda logits, c, roi: (logits[:, c] * roi).sum(dim=(1, 2))).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
