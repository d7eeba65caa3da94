r"""Chapter 1's auto-checked exercise: the image as the network's input, :math:`x = (\text{pixel}/255 - \mu)/\sigma`.

The reader writes ``my_preprocess(image, mean, std)``: an RGB ``uint8`` image
``H×W×3`` becomes a float tensor ``1×3×H×W``, as ``model.preprocess`` does
without its resize. :func:`check_preprocess` compares it with the reference
below on two images, with a mean and a standard deviation that differ from
channel to channel, so that a swap of channels, of axes or of mean and
standard deviation shows.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np
import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_preprocess"]


def _pre_parts(image, mean, std):
    x = torch.from_numpy(np.ascontiguousarray(image)).float()  # H×W×3, 0…255
    return x, torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32)


def _preprocess_reference(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    x = x.permute(2, 0, 1) / 255
    return ((x - m.view(3, 1, 1)) / s.view(3, 1, 1))[None]


def _pre_no_255(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x.permute(2, 0, 1) - m.view(3, 1, 1)) / s.view(3, 1, 1))[None]


def _pre_no_batch(image, mean, std):
    return _preprocess_reference(image, mean, std)[0]


def _pre_channels_last(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x / 255 - m) / s)[None]


def _pre_reshape(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    x = x.reshape(3, x.shape[0], x.shape[1]) / 255
    return ((x - m.view(3, 1, 1)) / s.view(3, 1, 1))[None]


def _pre_bgr(image, mean, std):
    return _preprocess_reference(np.ascontiguousarray(image[..., ::-1]), mean, std)


def _pre_swapped(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x.permute(2, 0, 1) / 255 - s.view(3, 1, 1)) / m.view(3, 1, 1))[None]


def _pre_times_std(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x.permute(2, 0, 1) / 255 - m.view(3, 1, 1)) * s.view(3, 1, 1))[None]


def _pre_no_normalise(image, mean, std):
    x, _, _ = _pre_parts(image, mean, std)
    return (x.permute(2, 0, 1) / 255)[None]


def _preprocess_cases():
    rng = np.random.default_rng(1)
    return [
        make_case(image=rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
        make_case(image=rng.integers(0, 256, (4, 3, 3), dtype=np.uint8), mean=(0.3, 0.5, 0.7), std=(0.2, 0.25, 0.4)),
    ]


EXERCISE = Exercise(
    id="preprocess",
    chapter="01_first_look",
    function="my_preprocess",
    signature="my_preprocess(image, mean, std)",
    title="turn an image into the network's input tensor",
    reference_name="the normalisation of model.preprocess (without its resize)",
    reference=_preprocess_reference,
    cases=_preprocess_cases,
    returns="tensor",
    mistakes=(
        Mistake("forgot to divide by 255", _pre_no_255,
                "the pixels are 0…255, but mean and std are for values in [0, 1]: divide by 255 first."),
        Mistake("no batch dimension", _pre_no_batch,
                "the network takes a batch: add the batch dimension with `x[None]` or `x.unsqueeze(0)`."),
        Mistake("channels last", _pre_channels_last,
                "an image is H×W×3 but the network wants 3×H×W: move the channel axis with `permute(2, 0, 1)`."),
        Mistake("reshape instead of permute", _pre_reshape,
                "`reshape` (or `view`) to 3×H×W keeps the memory order, so the numbers land in the wrong places; "
                "use `permute(2, 0, 1)`."),
        Mistake("channels reversed (BGR)", _pre_bgr,
                "the channels come out in the order B, G, R: keep the image's R, G, B order (see the OpenCV pitfall)."),
        Mistake("mean and std swapped", _pre_swapped,
                "subtract the mean and divide by the standard deviation: `(x - mean) / std`."),
        Mistake("multiplied by std", _pre_times_std,
                "divide by the standard deviation, do not multiply: `(x - mean) / std`."),
        Mistake("not normalised", _pre_no_normalise,
                "after dividing by 255, subtract the mean and divide by the standard deviation, channel by channel."),
    ),
    error_hints=(
        ("has no attribute 'permute'", "the image is a NumPy array: make a tensor first, `torch.from_numpy(image)`."),
        ("unsupported operand", "mean and std are tuples: make tensors of them, `torch.tensor(mean).view(3, 1, 1)`."),
    ),
)


def check_preprocess(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_preprocess(image, mean, std)``: :math:`x = (\text{pixel}/255 - \mu)/\sigma`, as a ``1×3×H×W`` tensor.

    ``image`` is an RGB ``uint8`` array ``H×W×3``; ``mean`` and ``std`` are
    tuples of three numbers (``model.mean``, ``model.std``). The function must
    return a float tensor of shape ``(1, 3, H, W)`` — what ``model.preprocess``
    does, without the resize.

    >>> def my_preprocess(image, mean, std):
    ...     x = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    ...     return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1))[None]
    >>> check_preprocess(my_preprocess).passed
    True

    Never raises for a wrong answer unless ``strict=True``: then it raises
    :class:`ExerciseFailed` with the message.
    """
    return check_answer(EXERCISE, fn, strict=strict)
