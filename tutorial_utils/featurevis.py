r"""Feature visualisation by activation maximisation, regularised as in DeepVis.

Gradient *ascent on the input*: start from a grey image :math:`x_0` and
repeat

.. math::

    x_{t+1} = r\Big(x_t + \eta\,\frac{\nabla_x y^c(x_t)}{\operatorname{mean}|\nabla_x y^c(x_t)|}\Big)

where :math:`y^c` is the class logit (before the softmax, so the image is
pushed towards the class, not merely away from the others) and :math:`r` the
regulariser of Yosinski et al. (2015): L2 decay towards grey, a Gaussian blur,
and clipping to valid pixels; plus random jitter (a shift before each step,
from Mordvintsev et al.'s DeepDream) so that no single pixel grid is exploited.
Without :math:`r` the ascent still drives :math:`y^c` up — with high-frequency
patterns no person would recognise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torchvision.transforms.functional import gaussian_blur

from .checks import class_indices, positive_int

__all__ = ["FeatureVisResult", "activation_maximisation", "ascent_step"]


@dataclass
class FeatureVisResult:
    """What :func:`activation_maximisation` returns.

    ``image``: RGB ``uint8`` ``H×W×3``; ``logits``: the class logit before each
    step (``steps`` values) and after the last (one more); ``probability``: the
    softmax probability of the class for the final image; ``seconds``: wall
    time of the optimisation.
    """

    image: np.ndarray
    logits: np.ndarray
    probability: float
    seconds: float
    settings: dict = field(default_factory=dict)


def _non_negative(name: str, value, integer: bool = False) -> float:
    kind = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, kind) or not np.isfinite(value) or value < 0:
        what = "a non-negative int" if integer else "a non-negative number"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return value


def ascent_step(image: torch.Tensor, grad: torch.Tensor, step_size: float, decay: float) -> torch.Tensor:
    r"""One normalised ascent step, then decay towards grey (no blur, no clipping).

    :math:`x \leftarrow x + \eta\, g / \overline{|g|}`, then
    :math:`x \leftarrow 0.5 + (x - 0.5)(1 - \text{decay})`. Shared by
    :func:`activation_maximisation` and chapter 09's exercise checker.

    >>> ascent_step(torch.full((1,), 0.5), torch.full((1,), 2.0), step_size=0.1, decay=0.0)
    tensor([0.6000])
    """
    image = image + step_size * grad / (grad.abs().mean() + 1e-12)
    if decay:
        image = 0.5 + (image - 0.5) * (1 - decay)
    return image


def activation_maximisation(
    model,
    class_idx: int,
    *,
    steps: int = 150,
    step_size: float = 0.05,
    decay: float = 0.001,
    blur_sigma: float = 1.0,
    blur_every: int = 1,
    jitter: int = 24,
    seed: int = 0,
) -> FeatureVisResult:
    r"""An image that makes ``model`` score class ``class_idx`` high, by regularised gradient ascent.

    ``model`` is what :func:`load_model` returns (its ``mean``, ``std`` and
    ``input_size`` are used). Each of ``steps`` steps shifts the image by up
    to ``jitter`` pixels, takes a normalised gradient step of ``step_size``
    (mean absolute change per pixel, in ``[0, 1]`` pixel units), then
    decays towards grey by ``decay``, blurs with ``blur_sigma`` every
    ``blur_every`` steps and clips to ``[0, 1]``. ``decay=0, blur_sigma=0,
    jitter=0`` is the plain, unregularised ascent. The same ``seed`` gives the
    same image.

    >>> result = activation_maximisation(model, model.class_index("flamingo"), steps=3)
    >>> result.image.shape, result.image.dtype, len(result.logits)   # steps + 1 logits
    ((224, 224, 3), dtype('uint8'), 4)

    Raises ``RuntimeError`` under ``torch.no_grad()``; ``ValueError`` /
    ``IndexError`` for a bad class or setting.
    """
    if not torch.is_grad_enabled():
        raise RuntimeError("activation_maximisation needs autograd; call it outside torch.no_grad()")
    for name in ("mean", "std", "input_size", "num_classes"):
        if not hasattr(model, name):
            raise TypeError(f"model must be what load_model returns (it has no .{name})")
    indices, single = class_indices(class_idx, model.num_classes)
    if not single:
        raise ValueError("activation_maximisation optimises one class: pass a single int")
    c = indices[0]
    steps = positive_int(steps, "steps")
    _non_negative("step_size", step_size)
    if not 0 <= _non_negative("decay", decay) < 1:
        raise ValueError(f"decay must be in [0, 1), got {decay}")
    _non_negative("blur_sigma", blur_sigma)
    blur_every = positive_int(blur_every, "blur_every")
    _non_negative("jitter", jitter, integer=True)

    generator = torch.Generator().manual_seed(int(seed))
    mean = torch.tensor(model.mean).view(1, 3, 1, 1)
    std = torch.tensor(model.std).view(1, 3, 1, 1)
    height, width = model.input_size
    image = 0.5 + 0.01 * torch.randn(1, 3, height, width, generator=generator)
    radius = int(np.ceil(3 * blur_sigma))
    was_training = model.training
    model.eval()
    logits = []
    start = time.perf_counter()
    try:
        for step in range(int(steps)):
            image.requires_grad_(True)
            shifted = image
            if jitter:
                dy, dx = torch.randint(-jitter, jitter + 1, (2,), generator=generator).tolist()
                shifted = torch.roll(image, shifts=(dy, dx), dims=(2, 3))
            score = model((shifted - mean) / std)[0, c]
            (grad,) = torch.autograd.grad(score, image)
            logits.append(float(score.detach()))
            with torch.no_grad():
                image = ascent_step(image, grad, step_size, decay)
                if blur_sigma > 0 and radius > 0 and step % blur_every == 0:
                    image = gaussian_blur(image, kernel_size=2 * radius + 1, sigma=float(blur_sigma))
                image = image.clamp(0.0, 1.0)
        with torch.no_grad():
            final = model((image - mean) / std)
    finally:
        model.train(was_training)
    seconds = time.perf_counter() - start
    logits.append(float(final[0, c]))
    pixels = np.round(image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    settings = dict(steps=steps, step_size=step_size, decay=decay, blur_sigma=blur_sigma,
                    blur_every=blur_every, jitter=jitter, seed=seed)
    return FeatureVisResult(
        image=pixels,
        logits=np.asarray(logits, dtype=np.float32),
        probability=float(final.softmax(dim=1)[0, c]),
        seconds=seconds,
        settings=settings,
    )
