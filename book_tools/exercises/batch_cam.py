r"""Chapter 3's transfer task: class activation maps for a batch, one class per image.

The chapter computes :math:`M_c = \sum_k w_k^c f_k` for one image and one
class. The reader writes ``my_batch_cam(f, W, classes)`` for a batch of ``B``
images, each with its own class: image ``b`` gets the map of class
``classes[b]``,

.. math::

    M_b(x, y) = \sum_k w_k^{c_b} f_{b,k}(x, y), \qquad c_b = \texttt{classes[b]},

returned as a ``B×h×w`` array. That is the situation in which the CAM
libraries' users most often got silently wrong maps: a target applied to the
first image only, or one class used for the whole batch. The test inputs have
distinct images and distinct classes, a square ``W`` (as many classes as
channels) so that transposed weights give numbers rather than an error, and
batches of more than one image, so that every mistake below gives a result of
its own.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, float_tensor, make_case

__all__ = ["EXERCISE", "check_batch_cam"]


def _batch_cam_reference(f, W, classes):
    from tutorial_utils.cam import class_activation_map

    return np.stack([class_activation_map(f[b:b + 1], W, int(c)) for b, c in enumerate(classes)])


def _first_class(f, W, classes):
    return torch.einsum("k,bkhw->bhw", W[classes[0]], f)


def _first_image(f, W, classes):
    return torch.einsum("bk,khw->bhw", W[list(classes)], f[0])


def _every_pair(f, W, classes):
    return torch.einsum("ck,bkhw->cbhw", W[list(classes)], f)


def _transposed(f, W, classes):
    return torch.einsum("kb,bkhw->bhw", W[:, list(classes)], f)


def _batch_cam_cases():
    rng = np.random.default_rng(18)

    def case(B, K, n_classes, h, w, classes):
        return make_case(f=float_tensor(2 * rng.random((B, K, h, w))),
                         W=float_tensor(rng.normal(size=(n_classes, K))), classes=classes)

    return [case(3, 6, 6, 4, 5, [2, 0, 5]), case(2, 8, 10, 5, 6, [7, 3]), case(4, 5, 5, 3, 3, [1, 4, 0, 2])]


EXERCISE = Exercise(
    id="batch_cam",
    chapter="03_cam",
    function="my_batch_cam",
    signature="my_batch_cam(f, W, classes)",
    title="CAM for a batch, one class per image",
    reference_name="class_activation_map applied to each image with its own class",
    reference=_batch_cam_reference,
    cases=_batch_cam_cases,
    kind="transfer",
    mistakes=(
        Mistake("the first class for every image", _first_class,
                "every image used the weights of `classes[0]`: image b needs the row `W[classes[b]]`."),
        Mistake("the first image for every class", _first_image,
                "every map was computed from `f[0]`: image b's map uses its own feature maps `f[b]`."),
        Mistake("every class for every image", _every_pair,
                "you computed all B × B pairs (every class on every image): pair image b with `classes[b]` "
                "only, for a B × h × w result — e.g. `torch.einsum('bk,bkhw->bhw', W[classes], f)`."),
        Mistake("transposed weights", _transposed,
                "you used columns of W (`W[:, c]`, the weights of channel c for every class); the weights "
                "of class c are the row `W[c]`."),
        Mistake("averaged over the channels", lambda f, W, classes: torch.einsum("bk,bkhw->bhw", W[list(classes)], f)
                / f.shape[1], "`M_c = Σ_k w_k^c f_k` is a sum over the channels, not a mean."),
        Mistake("applied a ReLU", lambda f, W, classes: torch.relu(torch.einsum("bk,bkhw->bhw", W[list(classes)], f)),
                "return the raw maps: their negative values are evidence against each image's class, keep them."),
    ),
    error_hints=(
        ("must match the size", "W is classes × K and f is B × K × h × w: the weights of image b's class are the row "
                                "`W[classes[b]]`, to be multiplied with `f[b]`."),
    ),
)


def check_batch_cam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_batch_cam(f, W, classes)``: :math:`M_b = \sum_k w_k^{c_b} f_{b,k}` for every image ``b``.

    ``f`` is a tensor ``B×K×h×w`` (a batch's feature maps), ``W`` the weights
    ``classes×K`` (``model.fc_weight``) and ``classes`` a list of ``B`` class
    indices, one per image; the function returns the raw maps, ``B×h×w``
    (NumPy array or tensor).

    >>> check_batch_cam(lambda f, W, classes: torch.einsum("bk,bkhw->bhw", W[classes], f)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
