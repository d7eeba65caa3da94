r"""Chapter 2's transfer task: the receptive field of a chain of layers the chapter did not trace.

The chapter applies :math:`r \leftarrow r + (k - 1)\,j,\ j \leftarrow j\,s`
(start :math:`r = j = 1`) to ResNet50's modules. The reader writes
``my_receptive_field(layers)`` for any chain given as a list of
``(kernel, stride)`` pairs — a VGG-like stack of 3×3 convolutions and 2×2
poolings, AlexNet's large strided kernels — and returns how many input pixels
across one unit of the last layer sees.

The test chains mix kernels and strides so that each known mistake (strides
ignored, a layer's own stride applied too early, the wrong start, the last
stride instead of the product of all earlier ones, :math:`k\,j` instead of
:math:`(k-1)\,j`) gives its own wrong number.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.

>>> _receptive_field_reference([(3, 1), (3, 1)])  # two 3×3 convolutions see 5 pixels
5
"""

from __future__ import annotations

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_receptive_field"]


def _receptive_field_reference(layers):
    r, j = 1, 1  # one pixel; neighbouring units one pixel apart
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


def _strides_ignored(layers):
    return 1 + sum(k - 1 for k, _ in layers)


def _own_stride_first(layers):
    r, j = 1, 1
    for k, s in layers:
        j *= s
        r += (k - 1) * j
    return r


def _started_at_zero(layers):
    r, j = 0, 1
    for k, s in layers:
        r += (k - 1) * j
        j *= s
    return r


def _last_stride_only(layers):
    r, previous = 1, 1
    for k, s in layers:
        r += (k - 1) * previous
        previous = s
    return r


def _k_times_j(layers):
    r, j = 1, 1
    for k, s in layers:
        r += k * j
        j *= s
    return r


def _receptive_field_cases():
    vgg_like = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1), (2, 2)]
    alexnet = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
    mixed = [(7, 2), (3, 2), (1, 1), (3, 1), (1, 1), (3, 2), (3, 1)]
    return [make_case(layers=vgg_like), make_case(layers=alexnet), make_case(layers=mixed)]


EXERCISE = Exercise(
    id="receptive_field",
    chapter="02_inside_resnet50",
    function="my_receptive_field",
    signature="my_receptive_field(layers)",
    title="the receptive field of a chain of (kernel, stride) layers",
    reference_name="the receptive field, r ← r + (k − 1)·j, j ← j·s from r = j = 1",
    reference=_receptive_field_reference,
    cases=_receptive_field_cases,
    returns="scalar",
    kind="transfer",
    mistakes=(
        Mistake("strides ignored", _strides_ignored,
                "after a stride-s layer, neighbouring units are s times further apart in the input: each layer "
                "adds (k − 1)·j pixels, where the jump j is the product of all earlier strides."),
        Mistake("own stride applied too early", _own_stride_first,
                "a layer's own stride only spaces out the units *after* it: first `r += (k - 1) * j`, "
                "then `j *= s`."),
        Mistake("off by one: started at 0", _started_at_zero,
                "start from r = 1: before any layer, a unit is one pixel, which sees itself."),
        Mistake("last stride instead of the product", _last_stride_only,
                "the jump j is the product of *all* earlier strides (`j *= s`), not just the previous layer's stride."),
        Mistake("added k·j instead of (k − 1)·j", _k_times_j,
                "a k-wide kernel adds k − 1 new pixels on top of the one its centre already sees: "
                "`r += (k - 1) * j`."),
    ),
    error_hints=(
        ("cannot unpack", "each layer is a pair (kernel, stride): `for k, s in layers:`."),
    ),
)


def check_receptive_field(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_receptive_field(layers)``: :math:`r \leftarrow r + (k - 1)\,j,\ j \leftarrow j\,s`, from :math:`r = j = 1`.

    ``layers`` is a list of ``(kernel, stride)`` pairs, first layer first; the
    function returns the receptive field of one unit of the last layer, in
    input pixels across (a number).

    >>> def my_receptive_field(layers):
    ...     r, j = 1, 1
    ...     for k, s in layers:
    ...         r, j = r + (k - 1) * j, j * s
    ...     return r
    >>> check_receptive_field(my_receptive_field).passed
    True

    Never raises for a wrong answer unless ``strict=True``: then it raises
    :class:`ExerciseFailed` with the message.
    """
    return check_answer(EXERCISE, fn, strict=strict)
