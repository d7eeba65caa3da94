r"""Chapter 2's auto-checked exercise: the head, global average pooling and one linear layer.

The reader writes ``my_head(f, W, b)``, the logits
:math:`S_c = \sum_k w_k^c F_k + b_c` with :math:`F_k` the mean of feature map
:math:`k`. The test inputs have batches of several images and non-zero biases,
and in one case as many classes as channels, so that a transposed weight
matrix gives numbers (and is named) rather than an error.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_head"]


def _head_reference(f, W, b):
    return f.mean(dim=(2, 3)) @ W.T + b


def _head_cases():
    rng = np.random.default_rng(2)

    def case(B, K, classes, h, w):
        return make_case(f=float_tensor(2 * rng.random((B, K, h, w))), W=float_tensor(rng.normal(size=(classes, K))),
                         b=float_tensor(rng.normal(size=classes)))

    return [case(2, 6, 6, 3, 4), case(3, 8, 5, 4, 3), case(1, 4, 9, 2, 5)]


EXERCISE = Exercise(
    id="head",
    chapter="02_inside_resnet50",
    function="my_head",
    signature="my_head(f, W, b)",
    title="the head: global average pooling and one linear layer",
    reference_name="the model's head (global average pooling, then the linear layer)",
    reference=_head_reference,
    cases=_head_cases,
    mistakes=(
        Mistake("forgot the bias", lambda f, W, b: f.mean(dim=(2, 3)) @ W.T,
                "the logits are `S_c = Σ_k w_k^c F_k + b_c`: add `b`."),
        Mistake("sum instead of mean", lambda f, W, b: f.sum(dim=(2, 3)) @ W.T + b,
                "global *average* pooling: `f.mean(dim=(2, 3))` — the sum is h·w times larger."),
        Mistake("max instead of mean", lambda f, W, b: f.amax(dim=(2, 3)) @ W.T + b,
                "global average pooling takes the mean of each feature map, not its maximum."),
        Mistake("transposed weights", lambda f, W, b: f.mean(dim=(2, 3)) @ W + b,
                "W is classes × K: multiply the pooled features by `W.T` (`F @ W.T`, or `W @ F` for one vector)."),
        Mistake("first image only", lambda f, W, b: (f.mean(dim=(2, 3)) @ W.T + b)[0],
                "return one row of logits per image, shape B × classes: do not index `[0]`."),
        Mistake("pooled over the batch too", lambda f, W, b: f.mean(dim=(0, 2, 3)) @ W.T + b,
                "average over the positions only, `dim=(2, 3)`, not over the images as well."),
    ),
    error_hints=(
        ("mat1 and mat2", "W is classes × K, so the pooled features F (B × K) multiply `W.T`."),
    ),
)


def check_head(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_head(f, W, b)``: :math:`F_k = \frac{1}{hw}\sum_{x,y} f_k(x,y)`, :math:`S_c = \sum_k w_k^c F_k + b_c`.

    ``f`` is a tensor ``B×K×h×w`` (feature maps), ``W`` the weights
    ``classes×K`` and ``b`` the bias ``classes``; the function returns the
    logits, ``B×classes``, as ``model.classify`` does.

    >>> check_head(lambda f, W, b: f.mean(dim=(2, 3)) @ W.T + b).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
