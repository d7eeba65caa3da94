r"""Feature visualisation by activation maximisation, regularised as in DeepVis.

Gradient *ascent on the input*: start from a grey image :math:`x_0` and repeat

.. math::

    x_{t+1} = r\Big(x_t + \eta\,\frac{\nabla_x y^c(x_t)}{\operatorname{mean}|\nabla_x y^c(x_t)|}\Big)

where :math:`y^c` is the class logit (before the softmax) and :math:`r` the
regulariser of Yosinski et al. (2015): L2 decay towards grey, a Gaussian blur and
clipping to valid pixels; plus random jitter (DeepDream's shift before each step).
Without :math:`r` the ascent still drives :math:`y^c` up — with patterns no person
would recognise. The same ascent climbs other objectives: :func:`channel_objective`,
:func:`neuron_objective`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from .checks import class_indices, int_at_least, module_of, number_in, positive_int, require_grad, seed_int

__all__ = ["FeatureVisResult", "Objective", "activation_maximisation", "ascent_step", "channel_objective",
           "class_objective", "neuron_objective"]


@dataclass
class FeatureVisResult:
    """What :func:`activation_maximisation` returns.

    ``image``: RGB ``uint8`` ``H×W×3``; ``logits`` (also ``scores``): the objective before
    each step and after the last; ``probability``: the class's softmax probability for the
    final image (``None`` unless the objective is a class logit); ``seconds``: wall time.
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
    """What the ascent climbs: ``fn`` maps the output of ``layer`` (``None``: the logits) for one image to a 0-d tensor.

    ``name`` says it in words; ``class_idx`` is a class objective's class.
    """

    layer: str | None
    fn: Callable[[torch.Tensor], torch.Tensor]
    name: str
    class_idx: int | None = None

    def __call__(self, output: torch.Tensor) -> torch.Tensor:
        return self.fn(output)


def class_objective(class_idx: int) -> Objective:
    r"""The class logit :math:`y^c` (before the softmax): the default objective of :func:`activation_maximisation`.

    >>> class_objective(3)(torch.arange(5.0)[None])
    tensor(3.)
    """
    c = int_at_least(class_idx, "class_idx", 0)
    return Objective(None, lambda logits: logits[0, c], f"logit of class {c}", class_idx=c)


def _channel(A: torch.Tensor, k: int, layer: str) -> torch.Tensor:
    if A.ndim != 4:
        raise ValueError(f"{layer} returns shape {tuple(A.shape)}: a channel objective needs a feature map B×K×h×w")
    if k >= A.shape[1]:
        raise IndexError(f"channel {k} is out of range: {layer} has {A.shape[1]} channels")
    return A[0, k]


def channel_objective(layer: str, k: int) -> Objective:
    r"""The mean activation of channel ``k`` of ``layer``'s output, :math:`\bar A^k = \frac{1}{hw}\sum_{i,j} A^k_{ij}`.

    ``layer`` is a dotted module name (e.g. one of ``model.stage_layers``).

    >>> channel_objective("features.x", 1)(torch.arange(12.0).view(1, 2, 2, 3))
    tensor(8.5000)
    """
    k = int_at_least(k, "k", 0)
    return Objective(layer, lambda A: _channel(A, k, layer).mean(), f"mean of channel {k} of {layer}")


def neuron_objective(layer: str, k: int, position: tuple[int, int] | None = None) -> Objective:
    r"""One neuron: channel ``k`` of ``layer``'s output at ``position`` (row, column), :math:`A^k_{i_0 j_0}`.

    ``position=None`` takes the centre of the grid, as DeepVis does. Only the pixels in
    the neuron's receptive field can change it.

    >>> neuron_objective("features.x", 1)(torch.arange(18.0).view(1, 2, 3, 3))
    tensor(13.)
    """
    k = int_at_least(k, "k", 0)
    if position is not None:
        position = (int_at_least(position[0], "position[0]", 0), int_at_least(position[1], "position[1]", 0))

    def value(A):
        unit = _channel(A, k, layer)
        i, j = position if position is not None else (unit.shape[0] // 2, unit.shape[1] // 2)
        if i >= unit.shape[0] or j >= unit.shape[1]:
            raise IndexError(f"position {(i, j)} is outside {layer}'s {unit.shape[0]}×{unit.shape[1]} grid")
        return unit[i, j]

    where = "the centre" if position is None else f"position {position}"
    return Objective(layer, value, f"channel {k} of {layer} at {where}")


class _Reached(Exception):
    """Raised by the hook once the objective's layer has run: the rest of the network is not needed."""


def _layer_output(model, module, x: torch.Tensor) -> torch.Tensor:
    """The output of ``module`` (``None``: the logits) for input ``x``, running the model only as far as that module."""
    if module is None:
        return model(x)
    caught = []

    def hook(_module, _inputs, output):
        caught.append(output)
        raise _Reached

    handle = module.register_forward_hook(hook)
    try:
        model(x)
    except _Reached:
        pass
    finally:
        handle.remove()
    if not caught:
        raise RuntimeError("the objective's layer did not run in the model's forward pass")
    return caught[0]


def ascent_step(image: torch.Tensor, grad: torch.Tensor, step_size: float, decay: float) -> torch.Tensor:
    r"""One normalised ascent step, then decay towards grey (no blur, no clipping).

    :math:`x \leftarrow x + \eta\, g / \overline{|g|}`, then :math:`x \leftarrow 0.5 + (x - 0.5)(1 - \text{decay})`.

    >>> ascent_step(torch.full((1,), 0.5), torch.full((1,), 2.0), step_size=0.1, decay=0.0)
    tensor([0.6000])
    """
    image = image + step_size * grad / (grad.abs().mean() + 1e-12)
    if decay:
        image = 0.5 + (image - 0.5) * (1 - decay)
    return image


def _checked_objective(model, class_idx, objective) -> Objective:
    """The objective to climb: ``class_objective(class_idx)`` or ``objective``, checked against ``model``."""
    for name in ("mean", "std", "input_size", "num_classes"):
        if not hasattr(model, name):
            raise TypeError(f"model must be what load_model returns (it has no .{name})")
    if (class_idx is None) == (objective is None):
        raise ValueError("give either class_idx or objective, not both or neither")
    if objective is None:
        indices, single = class_indices(class_idx, model.num_classes)
        if not single:
            raise ValueError("activation_maximisation optimises one class: pass a single int")
        return class_objective(indices[0])
    if not isinstance(objective, Objective):
        raise TypeError(f"objective must be an Objective (see channel_objective), got {type(objective).__name__}")
    if objective.class_idx is not None:
        class_indices(objective.class_idx, model.num_classes)  # IndexError when out of range
    return objective


def activation_maximisation(model, class_idx: int | None = None, *, objective: Objective | None = None,
                            steps: int = 150, step_size: float = 0.05, decay: float = 0.001, blur_sigma: float = 1.0,
                            blur_every: int = 1, jitter: int = 24, seed: int = 0) -> FeatureVisResult:
    r"""An image that makes ``model`` score class ``class_idx`` (or another ``objective``) high, by regularised ascent.

    ``model`` is what :func:`load_model` returns. Each of ``steps`` steps shifts the image
    by up to ``jitter`` pixels, takes an :func:`ascent_step` of ``step_size`` (mean change
    per pixel, pixels in ``[0, 1]``) with ``decay``, blurs with ``blur_sigma`` every
    ``blur_every`` steps and clips to ``[0, 1]``; ``decay=0, blur_sigma=0, jitter=0`` is the
    plain ascent. The same ``seed`` gives the same image. An :class:`Objective` on an inner
    layer runs the network only as far as that layer.

    >>> result = activation_maximisation(model, model.class_index("flamingo"), steps=3)
    >>> result.image.shape, result.image.dtype, len(result.logits)   # steps + 1 logits
    ((224, 224, 3), dtype('uint8'), 4)
    >>> layer = list(model.stage_layers)[2]
    >>> run = activation_maximisation(model, objective=channel_objective(layer, 0), steps=2)
    >>> run.objective == f"mean of channel 0 of {layer}", run.probability, len(run.scores)
    (True, None, 3)

    Raises ``RuntimeError`` under ``torch.no_grad()``; ``ValueError`` / ``IndexError`` for a
    bad class, layer, channel or setting.
    """
    require_grad("activation_maximisation")
    objective = _checked_objective(model, class_idx, objective)
    module = None if objective.layer is None else module_of(model, objective.layer)
    steps, blur_every = positive_int(steps, "steps"), positive_int(blur_every, "blur_every")
    step_size, blur_sigma = number_in(step_size, "step_size", 0), number_in(blur_sigma, "blur_sigma", 0)
    jitter = int_at_least(jitter, "jitter", 0)
    if number_in(decay, "decay", 0, 1) == 1:
        raise ValueError(f"decay must be in [0, 1), got {decay}")

    generator = torch.Generator().manual_seed(seed_int(seed))
    mean = torch.tensor(model.mean).view(1, 3, 1, 1)
    std = torch.tensor(model.std).view(1, 3, 1, 1)
    image = 0.5 + 0.01 * torch.randn(1, 3, *model.input_size, generator=generator)
    radius = int(np.ceil(3 * blur_sigma))
    was_training = model.training
    model.eval()
    logits = []
    start = time.perf_counter()
    from torchvision.transforms.functional import gaussian_blur  # here: torchvision takes 2 s to import

    try:
        for step in range(steps):
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
                if radius > 0 and step % blur_every == 0:
                    image = gaussian_blur(image, kernel_size=2 * radius + 1, sigma=blur_sigma)
                image = image.clamp(0.0, 1.0)
        with torch.no_grad():
            x = (image - mean) / std
            final = model(x)
            logits.append(float(objective(final if module is None else _layer_output(model, module, x))))
    finally:
        model.train(was_training)
    c = objective.class_idx
    settings = dict(steps=steps, step_size=step_size, decay=decay, blur_sigma=blur_sigma, blur_every=blur_every,
                    jitter=jitter, seed=seed)
    return FeatureVisResult(image=np.round(image[0].permute(1, 2, 0).numpy() * 255).astype(np.uint8),
                            logits=np.asarray(logits, dtype=np.float32), seconds=time.perf_counter() - start,
                            probability=None if c is None else float(final.softmax(dim=1)[0, c]),
                            settings=settings, objective=objective.name)
