r"""Does a map tell the truth? Faithfulness metrics for any map of one image ``x`` (``1×3×H×W``).

* **Deletion and insertion** (Petsiuk et al., BMVC 2018): move the most salient
  fraction :math:`t` of the pixels from ``x`` to a baseline (deletion: a small
  area is good) or from a blurred copy into ``x`` (insertion: a large area is
  good), and record :math:`p_c(t)`:
  :math:`\mathrm{AUC} = \int_0^1 p_c(t)\,dt \approx \sum_i \tfrac12 (t_{i+1}-t_i)(p_c(t_i)+p_c(t_{i+1}))`.
* **Average Drop and Increase in Confidence** (Chattopadhyay et al., WACV 2018):
  show the model :math:`E^c = I \odot L^c` and compare its probability :math:`O_i^c`
  with :math:`Y_i^c` on the full image:
  :math:`\mathrm{AD} = \frac{100}{N}\sum_i \max(0, Y_i^c - O_i^c)/Y_i^c`,
  :math:`\mathrm{IC} = \frac{100}{N}\sum_i \mathbb{1}[O_i^c > Y_i^c]`.
* **Cascading randomisation** (Adebayo et al., NeurIPS 2018): re-initialise the layers
  from the classifier down; does the map change? (judged by :mod:`tutorial_utils.sanity`)
"""

from __future__ import annotations

import copy
import numbers
from typing import Iterator, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from .checks import as_map_array, class_indices, eval_model, one_image, positive_int
from .maps import upsample

__all__ = ["BASELINES", "Curve", "auc", "average_drop", "cascading_randomisation", "deletion_curve",
           "explanation_map", "increase_in_confidence", "insertion_curve", "randomisation_order", "rank_correlation"]

#: The baselines :func:`deletion_curve` and :func:`insertion_curve` know by name.
BASELINES = ("mean", "black", "blur")

#: The Gaussian blur of Petsiuk et al.'s insertion metric: an 11×11 kernel, σ = 5 pixels.
BLUR_KERNEL, BLUR_SIGMA = 11, 5.0


class Curve(NamedTuple):
    """A deletion or insertion curve: ``fractions`` :math:`t_i` and class probabilities :math:`p_c(t_i)`."""

    fractions: np.ndarray
    scores: np.ndarray

    @property
    def area(self) -> float:
        """The area under the curve, :func:`auc` of ``fractions`` and ``scores``."""
        return auc(self.fractions, self.scores)


def _ranks(saliency, size: tuple[int, int]) -> torch.Tensor:
    """Rank of every pixel at ``size`` (0 = most salient, ties in raster order), ``(n, H, W)`` for one map or n."""
    m = as_map_array(saliency, "saliency")
    stack = m[None] if m.ndim == 2 else m
    stack = np.asarray(upsample(stack, size) if stack.shape[-2:] != size else stack, dtype=np.float64)
    ranks = np.empty(stack.shape, dtype=np.int64).reshape(len(stack), -1)
    for i, one in enumerate(stack.reshape(len(stack), -1)):
        if one.max() == one.min():
            raise ValueError(f"{'saliency' if m.ndim == 2 else f'saliency[{i}]'} is constant: it ranks no pixel "
                             "above another, so the curve would only follow raster order (a Grad-CAM of a class "
                             "with no positive evidence?); pass a random map if you mean one")
        ranks[i, np.argsort(-one, kind="stable")] = np.arange(one.size)
    return torch.from_numpy(ranks.reshape(-1, *size))


def _pixel_stats(model, x: torch.Tensor, mean, std) -> tuple[torch.Tensor, torch.Tensor]:
    r"""The normalisation :math:`x = (I - \mu)/\sigma` of the model's input, as two ``1×3×1×1`` tensors."""
    mean = getattr(model, "mean", None) if mean is None else mean
    std = getattr(model, "std", None) if std is None else std
    if mean is None or std is None:
        raise ValueError("the model has no mean/std attributes: pass mean= and std= (the per-channel values "
                         "its preprocessing normalises with)")
    mu, sigma = (torch.as_tensor(v, dtype=x.dtype).reshape(1, -1, 1, 1) for v in (mean, std))
    if mu.shape[1] != 3 or sigma.shape[1] != 3 or not (sigma > 0).all():
        raise ValueError(f"mean and std must be 3 values (R, G, B), std positive; got {tuple(mean)}, {tuple(std)}")
    return mu, sigma


def _baseline(model, x: torch.Tensor, baseline) -> torch.Tensor:
    if isinstance(baseline, torch.Tensor):
        if baseline.shape != x.shape or not torch.isfinite(baseline).all():
            raise ValueError(f"a baseline tensor must have x's shape {tuple(x.shape)} and finite values, "
                             f"got {tuple(baseline.shape)}")
        return baseline.detach().to(x.dtype)
    if baseline == "mean":  # zero of the normalised input: the training data's mean colour
        return torch.zeros_like(x)
    if baseline == "black":  # pixel value 0, in the model's normalisation
        mu, sigma = _pixel_stats(model, x, None, None)
        return ((0.0 - mu) / sigma).expand_as(x).clone()
    if baseline == "blur":
        from torchvision.transforms.functional import gaussian_blur

        return gaussian_blur(x, [BLUR_KERNEL, BLUR_KERNEL], [BLUR_SIGMA, BLUR_SIGMA])
    raise ValueError(f"baseline must be one of {', '.join(BASELINES)} or a tensor shaped like x, got {baseline!r}")


def _class_probability(logits, class_idx) -> np.ndarray:
    if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
        raise ValueError("the model must return (B, classes) logits")
    (c,), _ = class_indices(class_idx, logits.shape[1])
    return logits.softmax(dim=1)[:, c].double().numpy()


def _curves(model, source, target, saliency, class_idx, steps, batch_size):
    """:math:`p_c(t_i)` after taking the first :math:`t_i` of the ranked pixels from ``target`` into ``source``."""
    steps, batch_size = positive_int(steps, "steps"), positive_int(batch_size, "batch_size")
    rank = _ranks(saliency, tuple(source.shape[-2:]))                            # (n, H, W)
    counts = np.round(np.linspace(0, rank[0].numel(), steps + 1)).astype(np.int64)  # pixels moved at step i
    # Nothing moved and everything moved are the same image for every map: run them once.
    jobs = [(0, 0), (0, steps)] + [(m, i) for m in range(len(rank)) for i in range(1, steps)]
    scores = np.empty((len(rank), steps + 1))
    with torch.no_grad():
        for start in range(0, len(jobs), batch_size):
            chunk = jobs[start:start + batch_size]
            moved = torch.stack([rank[m] < int(counts[i]) for m, i in chunk])  # True: taken from target
            probs = _class_probability(model(torch.where(moved[:, None], target, source)), class_idx)
            for (m, i), p in zip(chunk, probs):
                scores[m if 0 < i < steps else slice(None), i] = p
    curves = [Curve(counts / counts[-1], row) for row in scores]
    return curves[0] if np.ndim(saliency) == 2 else curves


def deletion_curve(model, x, saliency, class_idx, *, steps: int = 16, baseline="mean", batch_size: int = 16):
    r"""Delete the most salient pixels first and watch the class probability fall: **lower area is better**.

    Pixels are ranked by decreasing ``saliency`` (upsampled bilinearly to ``x``;
    ties keep raster order). At step :math:`i` the first :math:`t_i = i/\text{steps}`
    of them become the baseline — ``"mean"`` (zeros of the normalised input, as
    Petsiuk et al.), ``"black"``, ``"blur"`` (11×11, σ = 5) or a tensor like ``x`` —
    and the model gives :math:`p_c(t_i)`, in batches of ``batch_size`` under
    ``torch.no_grad()``. Returns a :class:`Curve` (``curve.area`` is its AUC), or a
    list of curves for a stack of maps ``(n, h, w)``.

    >>> curve = deletion_curve(model, x, cam, c, steps=8)
    >>> curve.fractions[:3], 0 <= curve.area <= 1
    (array([0.   , 0.125, 0.25 ]), True)

    Raises ``TypeError``/``ValueError``/``IndexError`` for an ``x`` that is not one
    preprocessed image, a map with NaN or no ranking (constant), bad ``steps`` or
    ``batch_size``, an unknown baseline, a model in training mode, a class out of range.
    """
    eval_model(model)
    x = one_image(model, x)
    return _curves(model, x, _baseline(model, x, baseline), saliency, class_idx, steps, batch_size)  # x → baseline


def insertion_curve(model, x, saliency, class_idx, *, steps: int = 16, baseline="blur", batch_size: int = 16):
    r"""Reveal the most salient pixels first on a blurred copy and watch the probability rise: **higher is better**.

    The mirror of :func:`deletion_curve` (same arguments and errors): the first
    :math:`t_i` of the ranked pixels are copied from ``x`` into the baseline
    (default ``"blur"``: the image's colours without its detail).

    >>> curve = insertion_curve(model, x, cam, c, steps=8)
    >>> len(curve.scores), 0 <= curve.area <= 1
    (9, True)
    """
    eval_model(model)
    x = one_image(model, x)
    return _curves(model, _baseline(model, x, baseline), x, saliency, class_idx, steps, batch_size)  # baseline → x


def auc(fractions, scores) -> float:
    r"""Area under a curve by the trapezoidal rule: :math:`\sum_i \tfrac12 (t_{i+1}-t_i)(p_{i}+p_{i+1})`.

    >>> auc([0.0, 0.5, 1.0], [1.0, 0.5, 0.0])
    0.5

    Raises ``ValueError`` for lengths that differ, fewer than two points, NaN, or ``fractions`` not rising.
    """
    t, p = np.asarray(fractions, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    if t.ndim != 1 or t.shape != p.shape or t.size < 2:
        raise ValueError(f"fractions and scores must be 1-D of the same length, at least two points; "
                         f"got shapes {t.shape} and {p.shape}")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("fractions and scores must not contain NaN or infinite values")
    if not (np.diff(t) > 0).all():
        raise ValueError("fractions must rise strictly")
    return float(np.trapezoid(p, t))


def explanation_map(model, x, saliency, *, mean=None, std=None) -> torch.Tensor:
    r"""The image times the map, in pixel space, as a model input: :math:`E = I \odot L`.

    The input is normalised, :math:`x = (I - \mu)/\sigma`, so the product is taken on the
    pixels, :math:`E = ((\sigma x + \mu)\,L - \mu)/\sigma` (multiplying ``x`` would fade the image to
    the mean colour, not to black). ``saliency`` is in ``[0, 1]`` (:func:`normalise` it first),
    ``(h, w)`` or ``(n, h, w)``; ``mean``/``std`` default to the model's. Returns ``(n, 3, H, W)``.

    >>> E = explanation_map(model, x, normalise(cam))
    >>> tuple(E.shape), 0 <= float(model(E).softmax(1)[0, c]) <= 1
    ((1, 3, 224, 224), True)

    Raises ``ValueError``/``TypeError`` for a map outside ``[0, 1]``, a bad ``x``, or no ``mean``/``std``.
    """
    x = one_image(model, x)
    mu, sigma = _pixel_stats(model, x, mean, std)
    m = as_map_array(saliency, "saliency").astype(np.float32, copy=False)
    if m.min() < -1e-6 or m.max() > 1 + 1e-6:
        raise ValueError(f"saliency must lie in [0, 1], got [{m.min():.3g}, {m.max():.3g}]; "
                         "scale it with normalise(map) first")
    stack = m[None] if m.ndim == 2 else m
    stack = upsample(stack, tuple(x.shape[-2:])) if stack.shape[-2:] != x.shape[-2:] else stack
    L = torch.from_numpy(np.clip(stack, 0.0, 1.0)).to(x.dtype)[:, None]     # (n, 1, H, W)
    return ((x * sigma + mu) * L - mu) / sigma


def _confidences(p_full, p_masked) -> tuple[np.ndarray, np.ndarray]:
    Y = np.atleast_1d(np.asarray(p_full, dtype=np.float64))
    O = np.atleast_1d(np.asarray(p_masked, dtype=np.float64))
    if Y.ndim != 1 or Y.shape != O.shape or Y.size == 0:
        raise ValueError(f"p_full and p_masked must be two equally long 1-D lists of probabilities (one per "
                         f"image), got shapes {np.shape(p_full)} and {np.shape(p_masked)}")
    for name, v in (("p_full", Y), ("p_masked", O)):
        if not ((v >= 0) & (v <= 1)).all():  # NaN too
            raise ValueError(f"{name} must hold probabilities in [0, 1] (softmax outputs, not logits)")
    if (Y <= 0).any():
        raise ValueError("p_full must be positive: Average Drop divides by the full image's probability")
    return Y, O


def average_drop(p_full, p_masked) -> float:
    r"""Average Drop in %: :math:`\frac{100}{N}\sum_i \max(0, Y_i - O_i)/Y_i`. Lower is better.

    :math:`Y_i` (``p_full``) is the class probability on each full image,
    :math:`O_i` (``p_masked``) on its :func:`explanation_map`.

    >>> average_drop([0.8, 0.5], [0.4, 0.6])
    25.0

    Raises ``ValueError`` for lists of different lengths, values outside ``[0, 1]`` (logits?), :math:`Y_i = 0`.
    """
    Y, O = _confidences(p_full, p_masked)
    return float(100.0 * np.mean(np.maximum(0.0, Y - O) / Y))


def increase_in_confidence(p_full, p_masked) -> float:
    r"""Increase in Confidence in %: :math:`\frac{100}{N}\sum_i \mathbb{1}[O_i > Y_i]`. Higher is better.

    Same arguments and errors as :func:`average_drop`.

    >>> increase_in_confidence([0.8, 0.5], [0.4, 0.6])
    50.0
    """
    Y, O = _confidences(p_full, p_masked)
    return float(100.0 * np.mean(O > Y))


def _has_parameters(module: nn.Module) -> bool:
    return next(module.parameters(), None) is not None


def _units(module: nn.Module, prefix: str = "") -> list[str]:
    """Weighted children in registration order; a container of blocks is opened, one of plain layers is one unit."""
    names = []
    for name, child in module.named_children():
        if not _has_parameters(child):
            continue
        blocks = any(_has_parameters(g) for kid in child.children() for g in kid.children())
        if isinstance(child, (nn.Sequential, nn.ModuleList, nn.ModuleDict)) and blocks:
            names += _units(child, prefix + name + ".")
        else:
            names.append(prefix + name)
    return names


def randomisation_order(model: nn.Module) -> list[str]:
    """The weighted units of ``model`` from the output downwards: the order of the cascade.

    A unit is a layer or block with weights (the classifier, each block of each
    stage, the stem); the order is the reverse of registration, which for these
    models is the order in which they run.

    >>> randomisation_order(model)[:3]
    ['fc', 'features.head', 'features.blocks.15']

    Raises ``TypeError`` if ``model`` is not a module, ``ValueError`` if it has no weights.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    names = _units(model)
    if not names:
        raise ValueError("model has no layers with weights to randomise")
    return names[::-1]


def _reinitialise(module: nn.Module, seed: int) -> None:
    """Fresh parameters for every weighted layer of ``module``, reproducibly, leaving the global random state alone."""
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        torch.manual_seed(seed)
        for layer in module.modules():
            own = list(layer.parameters(recurse=False))
            if own and hasattr(layer, "reset_parameters"):
                layer.reset_parameters()  # PyTorch's default initialisation of a fresh layer
            else:
                for p in own:
                    p.normal_(0.0, float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.01)


def _layer_names(model: nn.Module, layers) -> list[str]:
    if layers is None:
        return randomisation_order(model)
    if isinstance(layers, str):
        raise TypeError("layers must be a sequence of dotted names, e.g. ['fc', 'features.head'], not one string")
    names = list(layers)
    if len(set(names)) != len(names):
        raise ValueError(f"layers contains repeated names: {names}")
    for name in names:
        try:
            model.get_submodule(name)
        except AttributeError:
            raise ValueError(f"model has no layer named {name!r}; randomisation_order(model) lists the units") from None
    return names


def cascading_randomisation(model: nn.Module, layers: Sequence[str] | None = None, *, seed: int = 0
                            ) -> Iterator[tuple[tuple[str, ...], nn.Module]]:
    r"""Re-initialise a copy of ``model`` from the top down, one unit per step (Adebayo et al., 2018).

    Yields ``((), copy)`` with the trained weights, then ``(("fc",), copy)``,
    ``(("fc", "features.head"), copy)``, … — one deep copy, randomised further at
    each step (use each model before asking for the next); ``model`` is never
    touched. ``layers`` defaults to :func:`randomisation_order`. Each unit gets
    PyTorch's default initialisation (``reset_parameters()``) from a generator
    seeded with ``seed`` and the step, so two runs give the same models.

    >>> from itertools import islice
    >>> for names, randomised in islice(cascading_randomisation(model), 3):
    ...     print(names, hires_cam(randomised, x, c).shape)                # same x, same class
    () (7, 7)
    ('fc',) (7, 7)
    ('fc', 'features.head') (7, 7)

    Raises ``TypeError``/``ValueError`` for a model that is not a module or is in
    training mode, unknown or repeated layer names, or a non-integer seed.
    """
    eval_model(model)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    names = _layer_names(model, layers)

    def steps() -> Iterator[tuple[tuple[str, ...], nn.Module]]:
        randomised = copy.deepcopy(model).eval()
        yield (), randomised
        for step, name in enumerate(names, start=1):
            _reinitialise(randomised.get_submodule(name), int(seed) * 100_003 + step)
            yield tuple(names[:step]), randomised

    return steps()


def rank_correlation(a, b, *, absolute: bool = False) -> float:
    r"""Spearman's rank correlation :math:`\rho` of two maps of one shape (of :math:`|a|, |b|` with ``absolute``).

    :math:`\rho` is Pearson's correlation of the pixels' ranks (ties share their
    mean rank), so a map and any rescaled copy have :math:`\rho = 1`; a map whose
    sign flips has :math:`\rho = -1` but absolute :math:`\rho = 1`.

    >>> rank_correlation(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[10.0, 20.0], [30.0, 99.0]]))
    1.0

    Raises ``ValueError`` for maps of different shapes, NaN, or a constant map (no ranking).
    """
    from scipy.stats import spearmanr

    u = as_map_array(a, "a").astype(np.float64).ravel()
    v = as_map_array(b, "b").astype(np.float64).ravel()
    if np.shape(a) != np.shape(b):
        raise ValueError(f"a and b must have the same shape (upsample one), got {np.shape(a)} and {np.shape(b)}")
    if absolute:
        u, v = np.abs(u), np.abs(v)
    for name, w in (("a", u), ("b", v)):
        if w.max() == w.min():
            raise ValueError(f"{name} is constant{' in absolute value' if absolute else ''}: "
                             "a map without a ranking has no rank correlation")
    return float(spearmanr(u, v).statistic)
