r"""Chapter 1's transfer task: the network's input tensor back to an image file, :math:`\text{pixel} = \mathrm{round}(255\,\mathrm{clip}(x\sigma + \mu))`.

The chapter shows ``model.unnormalise(x)``, which gives floats in :math:`[0, 1]`
for ``imshow``. Saving what the network sees as a PNG needs more: the reader
writes ``my_unnormalise(x, mean, std)``, which turns a preprocessed tensor
``1×3×H×W`` into an RGB ``uint8`` image ``H×W×3`` — undo the normalisation
channel by channel, clip to :math:`[0, 1]`, scale to 0…255, round, and move
the channels last.

The test tensors are built from known pixel values whose fractional parts are
0.2 or 0.7 (far from the rounding boundary, so float rounding in a right
answer cannot flip a pixel, while truncating instead of rounding always shows),
with a few values far outside :math:`[0, 1]` so that a missing clip shows, and
a mean and standard deviation that differ from channel to channel.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_unnormalise"]


def _parts(x, mean, std):
    """The image ``3×H×W`` as float64, and the mean and standard deviation as ``3×1×1``."""
    v = x[0].detach().double().numpy()
    return v, np.asarray(mean, float).reshape(3, 1, 1), np.asarray(std, float).reshape(3, 1, 1)


def _to_image(v01):
    """Values ``3×H×W`` in [0, 1] (or beyond) → ``uint8`` ``H×W×3``: clip, scale, round, channels last."""
    return np.round(np.clip(v01, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)


def _unnormalise_reference(x, mean, std):
    v, m, s = _parts(x, mean, std)
    return _to_image(v * s + m)


def _forgot_std(x, mean, std):
    v, m, _ = _parts(x, mean, std)
    return _to_image(v + m)


def _wrong_order(x, mean, std):
    v, m, s = _parts(x, mean, std)
    return _to_image((v + m) * s)


def _swapped(x, mean, std):
    v, m, s = _parts(x, mean, std)
    return _to_image(v * m + s)


def _channels_first(x, mean, std):
    return _unnormalise_reference(x, mean, std).transpose(2, 0, 1)


def _no_clip(x, mean, std):
    v, m, s = _parts(x, mean, std)
    # What a cast to uint8 does to values outside 0…255: they wrap around (modulo 256).
    return (np.round((v * s + m) * 255).astype(np.int64) % 256).astype(np.uint8).transpose(1, 2, 0)


def _truncated(x, mean, std):
    v, m, s = _parts(x, mean, std)
    return (np.clip(v * s + m, 0, 1) * 255).astype(np.uint8).transpose(1, 2, 0)


def _forgot_255(x, mean, std):
    v, m, s = _parts(x, mean, std)
    return np.round(np.clip(v * s + m, 0, 1)).astype(np.uint8).transpose(1, 2, 0)


def _unnormalise_cases():
    rng = np.random.default_rng(18)

    def case(height, width, mean, std, outside):
        pixels = rng.integers(1, 254, (3, height, width)) + rng.choice([0.2, 0.7], (3, height, width))
        v01 = pixels / 255
        flat = v01.reshape(-1)
        idx = rng.choice(flat.size, outside, replace=False)
        flat[idx] = rng.choice([-0.6, -0.2, 1.4, 1.8], outside)  # beyond [0, 1]: must be clipped
        m, s = np.asarray(mean).reshape(3, 1, 1), np.asarray(std).reshape(3, 1, 1)
        x = torch.from_numpy(((v01 - m) / s)[None].astype(np.float32))
        return make_case(x=x, mean=mean, std=std)

    return [case(4, 6, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 5),
            case(5, 3, (0.3, 0.5, 0.7), (0.2, 0.25, 0.4), 4)]


EXERCISE = Exercise(
    id="unnormalise",
    chapter="01_first_look",
    function="my_unnormalise",
    signature="my_unnormalise(x, mean, std)",
    title="turn the network's input tensor back into an RGB uint8 image",
    reference_name="the input tensor turned back into pixels (x·σ + μ, clipped, ×255, rounded, channels last)",
    reference=_unnormalise_reference,
    cases=_unnormalise_cases,
    kind="transfer",
    mistakes=(
        Mistake("forgot ×std", _forgot_std,
                "preprocessing divided by the standard deviation, so undo it by multiplying: `x * std + mean`."),
        Mistake("wrong order of operations", _wrong_order,
                "undo the steps in reverse order: preprocessing subtracted the mean, then divided by std; "
                "so first multiply by std, then add the mean: `x * std + mean`, not `(x + mean) * std`."),
        Mistake("mean and std swapped", _swapped,
                "multiply by the standard deviation and add the mean: `x * std + mean`."),
        Mistake("channels not moved", _channels_first,
                "the tensor is 3×H×W but an image is H×W×3: move the channels last with `permute(1, 2, 0)` "
                "(or `transpose(1, 2, 0)` on a NumPy array), after dropping the batch dimension with `x[0]`."),
        Mistake("no clip", _no_clip,
                "values outside [0, 1] wrap around when cast to uint8 (−0.1·255 becomes 230, a bright pixel): "
                "clip to [0, 1] first, `clamp(0, 1)` or `np.clip(v, 0, 1)`."),
        Mistake("truncated instead of rounded", _truncated,
                "casting to uint8 cuts off the fraction (199.7 becomes 199): round first, "
                "`(v * 255).round()` or `np.round(v * 255)`, then cast."),
        Mistake("forgot ×255", _forgot_255,
                "a uint8 image holds 0…255, not 0…1: multiply by 255 before rounding."),
    ),
    error_hints=(
        ("unsupported operand", "mean and std are tuples: make tensors of them, `torch.tensor(mean).view(3, 1, 1)`."),
        ("can't convert np.ndarray", "work in torch, or convert the tensor first with `x.numpy()`."),
        ("Can't call numpy() on Tensor that requires grad", "use `x.detach().numpy()`."),
    ),
)


def check_unnormalise(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_unnormalise(x, mean, std)``: :math:`\text{pixel} = \mathrm{round}(255\,\mathrm{clip}_{[0,1]}(x\sigma + \mu))`, ``H×W×3``.

    ``x`` is a preprocessed tensor ``1×3×H×W`` (what ``model.preprocess``
    returns), ``mean`` and ``std`` tuples of three numbers (``model.mean``,
    ``model.std``). The function must return the RGB image as an array
    ``H×W×3`` of integers 0…255 (``uint8``), ready for ``Image.fromarray``.

    >>> def my_unnormalise(x, mean, std):
    ...     v = x[0] * torch.tensor(std).view(3, 1, 1) + torch.tensor(mean).view(3, 1, 1)
    ...     return (v.clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    >>> check_unnormalise(my_unnormalise).passed
    True

    Never raises for a wrong answer unless ``strict=True``: then it raises
    :class:`ExerciseFailed` with the message.
    """
    return check_answer(EXERCISE, fn, strict=strict)
