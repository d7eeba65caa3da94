r"""Chapter 9's transfer task: the channel objective of DeepVis, for a batch of images.

The reader writes ``my_channel_objective(A, k)``: for feature maps ``A``
(``B×K×h×w``, one image per row) the mean activation of channel :math:`k` of
each image, :math:`\bar A^k_b = \frac{1}{hw}\sum_{i,j} A^k_{b,ij}` — what
:func:`tutorial_utils.channel_objective` climbs for one image, here for a batch,
so that one backward pass could push ``B`` images at once. The test inputs have
several images, negative values and grids wider than ``k``, so that a sum, a
maximum, a single neuron, a wrong axis and an average over the batch all give
numbers that differ from the answer and from each other.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_channel_objective"]


def _channel_reference(A, k):
    return A[:, k].mean(dim=(1, 2))


def _channel_cases():
    rng = np.random.default_rng(19)

    def case(B, K, h, w, k):
        return make_case(A=float_tensor(rng.normal(size=(B, K, h, w)) + rng.normal(size=(B, 1, 1, 1))), k=k)

    return [case(3, 5, 4, 6, 2), case(2, 4, 3, 5, 3), case(4, 3, 5, 4, 0)]


EXERCISE = Exercise(
    id="channel_objective",
    chapter="09_feature_visualisation",
    function="my_channel_objective",
    signature="my_channel_objective(A, k)",
    title="the channel objective for a batch of images",
    reference_name="the mean of channel k of each image (channel_objective)",
    reference=_channel_reference,
    cases=_channel_cases,
    returns="tensor",
    kind="transfer",
    mistakes=(
        Mistake("sum instead of mean", lambda A, k: A[:, k].sum(dim=(1, 2)),
                "the channel objective is the *mean* over the h·w positions; the sum is h·w times larger and "
                "changes with the grid's size."),
        Mistake("max: one neuron, not the channel", lambda A, k: A[:, k].amax(dim=(1, 2)),
                "the maximum is the strongest single neuron of the channel; the channel objective averages "
                "every position: `.mean(dim=(1, 2))` after `A[:, k]`."),
        Mistake("the centre neuron, not the channel", lambda A, k: A[:, k, A.shape[2] // 2, A.shape[3] // 2],
                "that is the neuron objective (one position); the channel objective averages all positions."),
        Mistake("channel taken from the wrong axis", lambda A, k: A[..., k].mean(dim=(1, 2)),
                "channels are axis 1 of B×K×h×w: select with `A[:, k]`, not `A[..., k]` (a column of every channel)."),
        Mistake("averaged over the whole batch", lambda A, k: A[:, k].mean(),
                "return one value per image, shape B: average over the positions only, `A[:, k].mean(dim=(1, 2))`."),
        Mistake("first image only", lambda A, k: A[0, k].mean(),
                "A holds B images: return the objective of each of them, a tensor of B values."),
        Mistake("every channel averaged", lambda A, k: A.mean(dim=(1, 2, 3)),
                "select channel k first, `A[:, k]`, then average over its positions."),
    ),
)


def check_channel_objective(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_channel_objective(A, k)``: :math:`\bar A^k_b = \frac{1}{hw}\sum_{i,j} A^k_{b,ij}` for each image ``b``.

    ``A`` is a tensor ``B×K×h×w`` (an inner layer's feature maps for ``B``
    images) and ``k`` a channel; the function returns a tensor of ``B`` values,
    the mean activation of channel ``k`` in each image.

    >>> check_channel_objective(lambda A, k: A[:, k].mean(dim=(1, 2))).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
