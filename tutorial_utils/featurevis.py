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

The same ascent climbs other objectives, as DeepVis does for units inside the
network (``objective=``): the mean of one channel :math:`k` of an inner layer's
output :math:`A`, :math:`\bar A^k = \frac{1}{hw}\sum_{i,j} A^k_{ij}`
(:func:`channel_objective`), or one neuron, :math:`A^k_{i_0 j_0}` at one
position (:func:`neuron_objective`); :func:`class_objective` is the default.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torchvision.transforms.functional import gaussian_blur

from .checks import class_indices, positive_int

__all__ = [
    "FeatureVisResult",
    "Objective",
    "activation_maximisation",
    "ascent_step",
    "channel_objective",
    "class_objective",
    "neuron_objective",
]


@dataclass
class FeatureVisResult:
    """What :func:`activation_maximisation` returns.

    ``image``: RGB ``uint8`` ``H×W×3``; ``logits``: the objective — the class
    logit by default — before each step (``steps`` values) and after the last
    (one more), also called ``scores``; ``probability``: the softmax probability
    of the class for the final image (``None`` for an objective that is not a
    class logit); ``seconds``: wall time of the optimisation; ``objective``: what
    was climbed, in words.
    """

    image: np.ndarray
    logits: np.ndarray
    probability: float | None
    seconds: float
    settings: dict = field(default_factory=dict)
    objective: str = ""

    @property
    def scores(self) -> np.ndarray:
        """The objective's value before each step and after the last (the same numbers as ``logits``)."""
        return self.logits


@dataclass(frozen=True)
class Objective:
    """What the ascent climbs: ``fn`` maps the output of ``layer`` (``None``: the logits) to one number.

    ``fn`` receives the layer's output for a batch of one image (``1×K×h×w``
    for a feature map, ``1×classes`` for the logits) and returns a 0-d tensor;
    ``name`` says it in words; ``class_idx`` is the class of a class objective.
    Build one with :func:`class_objective`, :func:`channel_objective` or
    :func:`neuron_objective`.
    """

    layer: str | None
    fn: Callable[[torch.Tensor], torch.Tensor]
    name: str
    class_idx: int | None = None

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return self.fn(output)


def _index(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def class_objective(class_idx: int) -> Objective:
    r"""The class logit :math:`y^c` (before the softmax): the default objective of :func:`activation_maximisation`.

    >>> class_objective(3)(torch.arange(5.0)[None])
    tensor(3.)
    """
    c = _index(class_idx, "class_idx")
    return Objective(None, lambda logits: logits[0, c], f"logit of class {c}", class_idx=c)


def _unit(A: torch.Tensor, k: int, layer: str) -> torch.Tensor:
    if A.ndim != 4:
        raise ValueError(f"{layer} returns shape {tuple(A.shape)}: a channel objective needs a feature map B×K×h×w")
    if k >= A.shape[1]:
        raise IndexError(f"channel {k} is out of range: {layer} has {A.shape[1]} channels")
    return A[0, k]


def channel_objective(layer: str, k: int) -> Objective:
    r"""The mean activation of channel ``k`` of ``layer``'s output, :math:`\bar A^k = \frac{1}{hw}\sum_{i,j} A^k_{ij}`.

    ``layer`` is a dotted module name of the model (e.g. one of
    ``model.stage_layers``). Every position counts alike, so the ascent may fill
    the whole canvas with the channel's pattern.

    >>> channel_objective("features.x", 1)(torch.arange(12.0).view(1, 2, 2, 3))
    tensor(8.5000)
    """
    k = _index(k, "k")
    return Objective(layer, lambda A: _unit(A, k, layer).mean(), f"mean of channel {k} of {layer}")


def neuron_objective(layer: str, k: int, position: tuple[int, int] | None = None) -> Objective:
    r"""One neuron: channel ``k`` of ``layer``'s output at one ``position`` (row, column), :math:`A^k_{i_0 j_0}`.

    ``position=None`` takes the centre of the grid, ``(h // 2, w // 2)``, as
    DeepVis does. Only the pixels in the neuron's receptive field can change it.

    >>> neuron_objective("features.x", 1)(torch.arange(18.0).view(1, 2, 3, 3))
    tensor(13.)
    """
    k = _index(k, "k")
    if position is not None:
        position = (_index(position[0], "position[0]"), _index(position[1], "position[1]"))

    def value(A):
        unit = _unit(A, k, layer)
        i, j = position if position is not None else (unit.shape[0] // 2, unit.shape[1] // 2)
        if i >= unit.shape[0] or j >= unit.shape[1]:
            raise IndexError(f"position {(i, j)} is outside {layer}'s {unit.shape[0]}×{unit.shape[1]} grid")
        return unit[i, j]

    where = "the centre" if position is None else f"position {position}"
    return Objective(layer, value, f"channel {k} of {layer} at {where}")


class _Reached(Exception):
    """Raised by the hook once the objective's layer has run: the rest of the network is not needed."""


def _layer_output(model, module, x: torch.Tensor) -> torch.Tensor:
    """The output of ``module`` for input ``x``, running the model only as far as that module."""
    if module is None:
        return model(x)
    caught = {}

    def hook(_module, _inputs, output):
        caught["output"] = output
        raise _Reached

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Reached:
        pass
    finally:
        handle.remove()
    if "output" not in caught:
        raise RuntimeError("the objective's layer did not run in the model's forward pass")
    return caught["output"]


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
    class_idx: int | None = None,
    *,
    objective: Objective | None = None,
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
    same image. ``objective`` replaces the class logit by another
    :class:`Objective` (:func:`channel_objective`, :func:`neuron_objective`);
    give either ``class_idx`` or ``objective``. An objective on an inner layer
    runs the network only as far as that layer.

    >>> result = activation_maximisation(model, model.class_index("flamingo"), steps=3)
    >>> result.image.shape, result.image.dtype, len(result.logits)   # steps + 1 logits
    ((224, 224, 3), dtype('uint8'), 4)

    >>> layer = list(model.stage_layers)[2]
    >>> run = activation_maximisation(model, objective=channel_objective(layer, 0), steps=2)
    >>> run.objective == f"mean of channel 0 of {layer}", run.probability, len(run.scores)
    (True, None, 3)

    Raises ``RuntimeError`` under ``torch.no_grad()``; ``ValueError`` /
    ``IndexError`` for a bad class, layer, channel or setting.
    """
    if not torch.is_grad_enabled():
        raise RuntimeError("activation_maximisation needs autograd; call it outside torch.no_grad()")
    for name in ("mean", "std", "input_size", "num_classes"):
        if not hasattr(model, name):
            raise TypeError(f"model must be what load_model returns (it has no .{name})")
    if (class_idx is None) == (objective is None):
        raise ValueError("give either class_idx or objective, not both or neither")
    if objective is None:
        indices, single = class_indices(class_idx, model.num_classes)
        if not single:
            raise ValueError("activation_maximisation optimises one class: pass a single int")
        objective = class_objective(indices[0])
    elif not isinstance(objective, Objective):
        raise TypeError(f"objective must be an Objective (see channel_objective), got {type(objective).__name__}")
    elif objective.class_idx is not None:
        class_indices(objective.class_idx, model.num_classes)  # IndexError when out of range
    module = None
    if objective.layer is not None:
        try:
            module = model.get_submodule(objective.layer)
        except AttributeError:
            raise ValueError(f"the model has no layer {objective.layer!r}; try one of {list(model.stage_layers)}") from None
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
            score = objective(_layer_output(model, module, (shifted - mean) / std))
            (grad,) = torch.autograd.grad(score, image)
            logits.append(float(score.detach()))
            with torch.no_grad():
                image = ascent_step(image, grad, step_size, decay)
                if blur_sigma > 0 and radius > 0 and step % blur_every == 0:
                    image = gaussian_blur(image, kernel_size=2 * radius + 1, sigma=float(blur_sigma))
                image = image.clamp(0.0, 1.0)
        with torch.no_grad():
            final = model((image - mean) / std)
            logits.append(float(objective(final if module is None else _layer_output(model, module, (image - mean) / std))))
    finally:
        model.train(was_training)
    seconds = time.perf_counter() - start
    c = objective.class_idx
    pixels = np.round(image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8)
    settings = dict(steps=steps, step_size=step_size, decay=decay, blur_sigma=blur_sigma,
                    blur_every=blur_every, jitter=jitter, seed=seed)
    return FeatureVisResult(
        image=pixels,
        logits=np.asarray(logits, dtype=np.float32),
        probability=None if c is None else float(final.softmax(dim=1)[0, c]),
        seconds=seconds,
        settings=settings,
        objective=objective.name,
    )
