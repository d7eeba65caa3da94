r"""Chapter 9's auto-checked exercise: one step of the regularised gradient ascent.

The reader writes ``my_ascent_step(img, grad, step_size, decay)``:
:math:`x \leftarrow x + \eta\,\nabla_x y^c / \operatorname{mean}|\nabla_x y^c|`,
then a decay towards grey and a clip to ``[0, 1]`` — the step of
:func:`tutorial_utils.activation_maximisation` without blur and jitter. The
test images have pixels that the step pushes past 1 and below 0, so that the
order of decay and clip matters.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_ascent_step"]


def _ascent(img, grad, step_size, decay, *, norm="mean", sign=1.0, clip=True, grey=0.5, order="step-decay-clip"):
    x, g = img.clone(), grad
    if norm == "mean":
        g = g / (g.abs().mean() + 1e-12)
    elif norm == "max":
        g = g / g.abs().max()
    elif norm == "signed":
        g = g / g.mean()
    step = sign * step_size * g
    for part in order.split("-"):
        if part == "step":
            x = x + step
        elif part == "decay":
            x = grey + (x - grey) * (1 - decay)
        elif part == "clip" and clip:
            x = x.clamp(0.0, 1.0)
    return x


def _ascent_reference(img, grad, step_size, decay):
    from tutorial_utils.featurevis import ascent_step

    return ascent_step(img, grad, step_size, decay).clamp(0.0, 1.0)  # the library's own step


def _ascent_cases():
    rng = np.random.default_rng(9)
    img = rng.uniform(0.1, 0.9, (1, 3, 4, 5))
    grad = rng.normal(size=(1, 3, 4, 5)) * 0.3
    img[0, 0, 0, :3], grad[0, 0, 0, :3] = 0.99, [0.5, 0.8, 0.3]  # pushed past 1: clipping matters
    img[0, 1, 3, :2], grad[0, 1, 3, :2] = 0.01, [-0.6, -0.4]  # pushed below 0
    img2 = rng.uniform(0.0, 1.0, (1, 3, 3, 3))
    grad2 = rng.normal(size=(1, 3, 3, 3)) * 2.0
    return [
        make_case(img=float_tensor(img), grad=float_tensor(grad), step_size=0.05, decay=0.1),
        make_case(img=float_tensor(img2), grad=float_tensor(grad2), step_size=0.01, decay=0.0),
        make_case(img=float_tensor(rng.uniform(0.2, 0.8, (1, 3, 2, 4))), grad=float_tensor(rng.normal(size=(1, 3, 2, 4))),
                  step_size=0.2, decay=0.3),
    ]


EXERCISE = Exercise(
    id="ascent_step",
    chapter="09_feature_visualisation",
    function="my_ascent_step",
    signature="my_ascent_step(img, grad, step_size, decay)",
    title="one step of the regularised gradient ascent",
    reference_name="the step of activation_maximisation (without blur and jitter)",
    reference=_ascent_reference,
    cases=_ascent_cases,
    mistakes=(
        Mistake("no normalisation", lambda i, g, s, d: _ascent(i, g, s, d, norm=None),
                "divide the gradient by its mean absolute value, `grad.abs().mean()`, so that η is the mean change per pixel."),
        Mistake("divided by the largest |g|", lambda i, g, s, d: _ascent(i, g, s, d, norm="max"),
                "divide by the *mean* absolute gradient, `grad.abs().mean()`, not the maximum."),
        Mistake("divided by mean(g) instead of mean(|g|)", lambda i, g, s, d: _ascent(i, g, s, d, norm="signed"),
                "take the absolute value before the mean: `grad.abs().mean()`."),
        Mistake("descent instead of ascent", lambda i, g, s, d: _ascent(i, g, s, d, sign=-1.0),
                "*add* the normalised gradient: we climb the class logit."),
        Mistake("no clipping", lambda i, g, s, d: _ascent(i, g, s, d, clip=False),
                "clip the pixels to [0, 1] at the end: `.clamp(0, 1)`."),
        Mistake("decay towards 0 instead of grey", lambda i, g, s, d: _ascent(i, g, s, d, grey=0.0),
                "decay towards grey: `0.5 + (x - 0.5) * (1 - decay)`."),
        Mistake("decay before the step", lambda i, g, s, d: _ascent(i, g, s, d, order="decay-step-clip"),
                "take the gradient step first, then decay towards grey, then clip."),
        Mistake("clipped before the decay", lambda i, g, s, d: _ascent(i, g, s, d, order="step-clip-decay"),
                "take the gradient step, decay towards grey, and clip last."),
        Mistake("forgot the decay", lambda i, g, s, d: _ascent(i, g, s, 0.0),
                "after the step, pull every pixel towards grey: `0.5 + (x - 0.5) * (1 - decay)`."),
    ),
)


def check_ascent_step(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_ascent_step(img, grad, step_size, decay)``: :math:`x \leftarrow x + \eta\,\nabla_x y^c / \operatorname{mean}|\nabla_x y^c|`, then decay and clip.

    ``img`` is the image in ``[0, 1]`` and ``grad`` the gradient
    :math:`\nabla_x y^c`, tensors ``1×3×H×W``; ``step_size`` is :math:`\eta`.
    The function takes the normalised step, decays towards grey,
    :math:`x \leftarrow 0.5 + (x - 0.5)(1 - \text{decay})`, clips to ``[0, 1]``
    and returns the new image — one step of :func:`activation_maximisation`
    without blur and jitter.

    >>> def my_ascent_step(img, grad, step_size, decay):
    ...     x = img + step_size * grad / grad.abs().mean()
    ...     return (0.5 + (x - 0.5) * (1 - decay)).clamp(0, 1)
    >>> check_ascent_step(my_ascent_step).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
