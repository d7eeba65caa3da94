r"""Does a map tell the truth? Faithfulness metrics and the sanity check.

The evaluation step of the book's data path: it takes any map from any method
(CAM, SeCAM, Grad-CAM, HiResCAM, LIME, a random map …) for one preprocessed
image ``x`` (``1×3×H×W``) and asks the model how much the pixels the map ranks
highest matter.

* **Deletion and insertion** (Petsiuk et al., BMVC 2018). Order the pixels by
  decreasing saliency; after moving the first fraction :math:`t` of them from
  one image to another, record the class probability :math:`p_c(t)`. Deletion
  moves them from ``x`` to a *baseline* (the probability should fall fast: a
  small area under the curve is good); insertion moves them from a blurred
  copy into ``x`` (the probability should rise fast: a large area is good).

  .. math::

      \mathrm{AUC} = \int_0^1 p_c(t)\,dt
      \approx \sum_i \tfrac12\,(t_{i+1}-t_i)\,\big(p_c(t_i)+p_c(t_{i+1})\big).

* **Average Drop and Increase in Confidence** (Chattopadhyay et al., WACV 2018,
  the Grad-CAM++ paper). Multiply the image, *in pixel space*, by the map
  :math:`L^c \in [0, 1]`: :math:`E^c = I \odot L^c`. With :math:`Y_i^c` the
  probability on the full image and :math:`O_i^c` on :math:`E^c`,

  .. math::

      \mathrm{AD} = \frac{100}{N}\sum_i \frac{\max(0,\,Y_i^c - O_i^c)}{Y_i^c},
      \qquad
      \mathrm{IC} = \frac{100}{N}\sum_i \mathbb{1}\big[O_i^c > Y_i^c\big].

* **Cascading randomisation** (Adebayo et al., NeurIPS 2018): re-initialise
  the model's layers from the classifier downwards, one at a time, and measure
  how much each method's map changes (Spearman's rank correlation). A map that
  does not change when the weights it claims to explain are destroyed does not
  explain the model.
"""

from __future__ import annotations

import copy
import numbers
from typing import Iterator, NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from .checks import as_map_array, class_indices, positive_int
from .maps import upsample

__all__ = [
    "BASELINES",
    "Curve",
    "auc",
    "average_drop",
    "cascading_randomisation",
    "deletion_curve",
    "explanation_map",
    "increase_in_confidence",
    "insertion_curve",
    "randomisation_order",
    "rank_correlation",
]

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


# --------------------------------------------------------------------------- #
# Checks shared by the metrics
# --------------------------------------------------------------------------- #


def _check_model(model) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    stochastic = (nn.modules.dropout._DropoutNd, nn.modules.batchnorm._BatchNorm)
    if any(m.training and isinstance(m, stochastic) for m in model.modules()):
        raise ValueError(
            "model is in training mode: its dropout or batch statistics would make every score "
            "depend on chance or on the batch; call model.eval() first"
        )


def _check_x(model, x) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"x must be the tensor model.preprocess(image) returns, got {type(x).__name__}"
        )
    if hasattr(model, "check_input"):  # a CamModel: its own checks and messages
        model.check_input(x)
    if x.ndim != 4 or x.shape[1] != 3 or not torch.is_floating_point(x):
        raise ValueError(f"x must be a float tensor of shape (1, 3, H, W), got {tuple(x.shape)} {x.dtype}")
    if x.shape[0] != 1:
        raise ValueError(
            f"x holds {x.shape[0]} images; the curves explain one image at a time — "
            "loop over the images (x[i:i+1])"
        )
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or infinite values")
    return x.detach()


def _ranks(saliency, size: tuple[int, int]) -> torch.Tensor:
    """Rank of every pixel (0 = most salient) at ``size``, per map; ties broken in raster order.

    ``saliency`` is ``(h, w)`` or ``(n, h, w)``; returns ``(n, H, W)`` int64.
    """
    m = as_map_array(saliency, "saliency")
    stack = m[None] if m.ndim == 2 else m
    if stack.shape[-2:] != tuple(size):
        stack = upsample(stack, size)  # bilinear, like every map of the book
    stack = np.asarray(stack, dtype=np.float64).reshape(stack.shape[0], -1)
    ranks = np.empty(stack.shape, dtype=np.int64)
    for i, one in enumerate(stack):
        if one.max() == one.min():
            which = "saliency" if m.ndim == 2 else f"saliency[{i}]"
            raise ValueError(
                f"{which} is constant: it ranks no pixel above another, so the curve would only "
                "follow raster order. Check why the method returned a flat map (for example a "
                "Grad-CAM of a class with no positive evidence), or pass a random map on purpose"
            )
        order = np.argsort(-one, kind="stable")  # stable: equal values keep raster order
        ranks[i, order] = np.arange(order.size)
    return torch.from_numpy(ranks.reshape(-1, *size))


def _pixel_stats(model, x: torch.Tensor, mean, std) -> tuple[torch.Tensor, torch.Tensor]:
    """The normalisation :math:`x = (p - \\mu)/\\sigma` as two ``1×3×1×1`` tensors."""
    if mean is None:
        mean = getattr(model, "mean", None)
    if std is None:
        std = getattr(model, "std", None)
    if mean is None or std is None:
        raise ValueError(
            "the model has no mean/std attributes: pass mean= and std= (the per-channel values "
            "its preprocessing normalises with)"
        )
    mu = torch.as_tensor(mean, dtype=x.dtype).reshape(1, -1, 1, 1)
    sigma = torch.as_tensor(std, dtype=x.dtype).reshape(1, -1, 1, 1)
    if mu.shape[1] != 3 or sigma.shape[1] != 3:
        raise ValueError(f"mean and std must have 3 values (R, G, B), got {tuple(mean)} and {tuple(std)}")
    if not (sigma > 0).all():
        raise ValueError(f"std must be positive, got {tuple(std)}")
    return mu, sigma


def _baseline(model, x: torch.Tensor, baseline) -> torch.Tensor:
    if isinstance(baseline, torch.Tensor):
        if baseline.shape != x.shape:
            raise ValueError(f"a baseline tensor must have x's shape {tuple(x.shape)}, got {tuple(baseline.shape)}")
        if not torch.isfinite(baseline).all():
            raise ValueError("baseline contains NaN or infinite values")
        return baseline.detach().to(x.dtype)
    if baseline == "mean":  # zero of the normalised input: the training data's mean colour
        return torch.zeros_like(x)
    if baseline == "black":  # pixel value 0, expressed in the model's normalisation
        mu, sigma = _pixel_stats(model, x, None, None)
        return ((0.0 - mu) / sigma).expand_as(x).clone()
    if baseline == "blur":
        from torchvision.transforms.functional import gaussian_blur

        return gaussian_blur(x, [BLUR_KERNEL, BLUR_KERNEL], [BLUR_SIGMA, BLUR_SIGMA])
    raise ValueError(f"baseline must be one of {', '.join(BASELINES)} or a tensor shaped like x, got {baseline!r}")


def _transfer_curve(model, x, saliency, class_idx, steps, baseline, batch_size, deletion: bool):
    _check_model(model)
    x = _check_x(model, x)
    steps = positive_int(steps, "steps")
    batch_size = positive_int(batch_size, "batch_size")
    single = np.ndim(saliency) == 2
    rank = _ranks(saliency, tuple(x.shape[-2:]))  # (n, H, W)
    base = _baseline(model, x, baseline)
    source, target = (x, base) if deletion else (base, x)
    n_maps, n_pixels = rank.shape[0], rank[0].numel()
    counts = np.round(np.linspace(0, n_pixels, steps + 1)).astype(np.int64)  # pixels moved at step i
    # The first and last images (nothing moved, everything moved) are the same
    # for every map: run them once. Then every (map, inner step) pair.
    jobs = [(0, 0), (0, len(counts) - 1)] + [(m, i) for m in range(n_maps) for i in range(1, len(counts) - 1)]
    scores = np.empty((n_maps, len(counts)))
    c = None
    with torch.no_grad():
        for start in range(0, len(jobs), batch_size):
            chunk = jobs[start : start + batch_size]
            moved = torch.stack([rank[m] < int(counts[i]) for m, i in chunk])  # True: taken from target
            images = torch.where(moved[:, None], target, source)
            logits = model(images)
            if not isinstance(logits, torch.Tensor) or logits.ndim != 2:
                raise ValueError("the model must return (B, classes) logits")
            if c is None:
                (c,), _ = class_indices(class_idx, logits.shape[1])
            probs = logits.softmax(dim=1)[:, c].double().numpy()
            for (m, i), p in zip(chunk, probs):
                if (m, i) == (0, 0) or (m, i) == (0, len(counts) - 1):
                    scores[:, i] = p
                else:
                    scores[m, i] = p
    curves = [Curve(counts / n_pixels, row) for row in scores]
    return curves[0] if single else curves


# --------------------------------------------------------------------------- #
# Deletion and insertion
# --------------------------------------------------------------------------- #


def deletion_curve(model, x, saliency, class_idx, *, steps: int = 16, baseline="mean", batch_size: int = 16):
    r"""Delete the most salient pixels first and watch the class probability fall.

    Pixels are ranked by decreasing ``saliency`` (any ``h×w`` map, upsampled
    bilinearly to ``x``'s size; equal values keep raster order, so the curve is
    deterministic). At step :math:`i = 0 \dots` ``steps`` the first
    :math:`t_i = i/\text{steps}` of them (rounded to whole pixels) are replaced
    by the baseline and the model gives :math:`p_c(t_i)`, the softmax
    probability of class ``class_idx``. A faithful map makes it fall fast:
    **lower area is better** (Petsiuk et al., 2018).

    ``baseline`` is ``"mean"`` (default: zeros of the normalised input, i.e. the
    training data's mean colour — what Petsiuk et al.'s code uses), ``"black"``
    (pixel value 0), ``"blur"`` (Gaussian, 11×11, σ = 5) or a tensor shaped like
    ``x``. The ``steps + 1`` images go through the model in batches of
    ``batch_size`` under ``torch.no_grad()``.

    Returns a :class:`Curve` ``(fractions, scores)``; ``curve.area`` is its AUC.
    A stack of maps ``(n, h, w)`` gives a list of ``n`` curves from one batched
    run (the first and last images, the same for every map, are run once).

    >>> curve = deletion_curve(model, x, cam, c, steps=8)
    >>> curve.fractions[:3], 0 <= curve.area <= 1
    (array([0.   , 0.125, 0.25 ]), True)

    Raises
    ------
    TypeError, ValueError, IndexError
        ``x`` not a single preprocessed image ``(1, 3, H, W)``; a saliency map
        that is not 2-D, holds NaN or is constant (it ranks nothing); ``steps``
        or ``batch_size`` not a positive integer; an unknown baseline; a model
        in training mode; ``class_idx`` out of range.
    """
    return _transfer_curve(model, x, saliency, class_idx, steps, baseline, batch_size, deletion=True)


def insertion_curve(model, x, saliency, class_idx, *, steps: int = 16, baseline="blur", batch_size: int = 16):
    r"""Reveal the most salient pixels first on a blurred copy and watch the class probability rise.

    The mirror image of :func:`deletion_curve`: the first :math:`t_i` of the
    ranked pixels are copied from ``x`` into the baseline (default ``"blur"``:
    ``x`` blurred with an 11×11 Gaussian, σ = 5, as Petsiuk et al. do, so that
    the starting image has the image's colours but no detail). A faithful map
    makes :math:`p_c(t)` rise fast: **higher area is better**.

    Same arguments, return value and errors as :func:`deletion_curve`.

    >>> curve = insertion_curve(model, x, cam, c, steps=8)
    >>> len(curve.scores), 0 <= curve.area <= 1
    (9, True)
    """
    return _transfer_curve(model, x, saliency, class_idx, steps, baseline, batch_size, deletion=False)


def auc(fractions, scores) -> float:
    r"""Area under a curve by the trapezoidal rule: :math:`\sum_i \tfrac12 (t_{i+1}-t_i)(p_{i}+p_{i+1})`.

    ``fractions`` must rise strictly (from 0 to 1 for a deletion or insertion
    curve, which then has an area between 0 and 1).

    >>> auc([0.0, 0.5, 1.0], [1.0, 0.5, 0.0])
    0.5

    Raises ``ValueError`` for arrays of different lengths, fewer than two
    points, NaN, or fractions that do not rise.
    """
    t = np.asarray(fractions, dtype=np.float64)
    p = np.asarray(scores, dtype=np.float64)
    if t.ndim != 1 or p.ndim != 1 or t.shape != p.shape:
        raise ValueError(f"fractions and scores must be 1-D of the same length, got shapes {t.shape} and {p.shape}")
    if t.size < 2:
        raise ValueError("a curve needs at least two points (steps ≥ 1)")
    if not (np.isfinite(t).all() and np.isfinite(p).all()):
        raise ValueError("fractions and scores must not contain NaN or infinite values")
    if not (np.diff(t) > 0).all():
        raise ValueError("fractions must rise strictly")
    return float(np.trapezoid(p, t))


# --------------------------------------------------------------------------- #
# Average Drop and Increase in Confidence
# --------------------------------------------------------------------------- #


def explanation_map(model, x, saliency, *, mean=None, std=None) -> torch.Tensor:
    r"""The image multiplied by the map, in pixel space: :math:`E^c = I \odot L^c`, as a model input.

    The model's input is normalised, :math:`x = (I - \mu)/\sigma`, so the
    product must be taken on the pixels :math:`I = \sigma x + \mu`, then
    normalised again:

    .. math::

        E = \frac{(\sigma x + \mu)\,L - \mu}{\sigma} = x\,L + \frac{\mu}{\sigma}(L - 1).

    (Multiplying the normalised tensor by :math:`L` instead would fade the
    image towards the mean colour, not towards black.)

    ``x`` is one preprocessed image ``(1, 3, H, W)``; ``saliency`` a map in
    ``[0, 1]`` (use :func:`normalise` first), ``(h, w)`` or a stack
    ``(n, h, w)``, upsampled bilinearly to ``x``'s size. ``mean``/``std`` default
    to ``model.mean``/``model.std``. Returns ``(n, 3, H, W)`` (``n = 1`` for one
    map), ready for ``model(...)``.

    >>> E = explanation_map(model, x, normalise(cam))
    >>> O = model(E).softmax(1)[0, c]
    >>> tuple(E.shape), 0 <= float(O) <= 1
    ((1, 3, 224, 224), True)

    Raises ``ValueError``/``TypeError`` for a map outside ``[0, 1]`` or with
    NaN, a bad ``x``, or a model without ``mean``/``std`` when none are given.
    """
    x = _check_x(model, x)
    mu, sigma = _pixel_stats(model, x, mean, std)
    m = as_map_array(saliency, "saliency").astype(np.float32, copy=False)
    low, high = float(m.min()), float(m.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise ValueError(
            f"saliency must lie in [0, 1], got [{low:.3g}, {high:.3g}]; scale it with normalise(map) first"
        )
    stack = m[None] if m.ndim == 2 else m
    if stack.shape[-2:] != tuple(x.shape[-2:]):
        stack = upsample(stack, tuple(x.shape[-2:]))
    L = torch.from_numpy(np.clip(stack, 0.0, 1.0)).to(x.dtype)[:, None]  # (n, 1, H, W)
    pixels = x * sigma + mu
    return (pixels * L - mu) / sigma


def _confidences(p_full, p_masked) -> tuple[np.ndarray, np.ndarray]:
    Y = np.atleast_1d(np.asarray(p_full, dtype=np.float64))
    O = np.atleast_1d(np.asarray(p_masked, dtype=np.float64))
    if Y.ndim != 1 or Y.shape != O.shape or Y.size == 0:
        raise ValueError(
            f"p_full and p_masked must be two equally long 1-D lists of probabilities (one per image), "
            f"got shapes {np.shape(p_full)} and {np.shape(p_masked)}"
        )
    for name, v in (("p_full", Y), ("p_masked", O)):
        if not np.isfinite(v).all() or (v < 0).any() or (v > 1).any():
            raise ValueError(f"{name} must hold probabilities in [0, 1] (softmax outputs, not logits)")
    if (Y <= 0).any():
        raise ValueError("p_full must be positive: Average Drop divides by the full image's probability")
    return Y, O


def average_drop(p_full, p_masked) -> float:
    r"""Average Drop in %: :math:`\frac{100}{N}\sum_i \max(0, Y_i - O_i)/Y_i`. Lower is better.

    ``p_full`` holds :math:`Y_i`, the class probability on each full image;
    ``p_masked`` holds :math:`O_i`, the probability on its explanation map
    (:func:`explanation_map`). A map that keeps what the model needs loses
    little confidence (Chattopadhyay et al., 2018).

    >>> average_drop([0.8, 0.5], [0.4, 0.6])
    25.0

    Raises ``ValueError`` for lists of different lengths, values outside
    ``[0, 1]`` or NaN (logits instead of probabilities), or :math:`Y_i = 0`.
    """
    Y, O = _confidences(p_full, p_masked)
    return float(100.0 * np.mean(np.maximum(0.0, Y - O) / Y))


def increase_in_confidence(p_full, p_masked) -> float:
    r"""Increase in Confidence in %: :math:`\frac{100}{N}\sum_i \mathbb{1}[O_i > Y_i]`. Higher is better.

    The share of images whose class probability *rises* when only the
    explanation map is shown. Same arguments and errors as :func:`average_drop`.

    >>> increase_in_confidence([0.8, 0.5], [0.4, 0.6])
    50.0
    """
    Y, O = _confidences(p_full, p_masked)
    return float(100.0 * np.mean(O > Y))


# --------------------------------------------------------------------------- #
# Sanity check: cascading randomisation
# --------------------------------------------------------------------------- #


def _has_parameters(module: nn.Module) -> bool:
    return next(module.parameters(), None) is not None


def _units(module: nn.Module, prefix: str) -> list[str]:
    names = []
    for name, child in module.named_children():
        if not _has_parameters(child):
            continue
        full = prefix + name
        # A container of *blocks* (modules that hold weighted layers themselves)
        # is opened up; a container of plain layers (conv, norm) is one unit.
        composite = any(
            any(_has_parameters(grandchild) for grandchild in kid.children()) for kid in child.children()
        )
        if isinstance(child, (nn.Sequential, nn.ModuleList, nn.ModuleDict)) and composite:
            names += _units(child, full + ".")
        else:
            names.append(full)
    return names


def randomisation_order(model: nn.Module) -> list[str]:
    """The weighted units of ``model``, from the output downwards: the order of the cascade.

    A *unit* is a layer or block with weights: the classifier, then each block
    of each stage (``features.layer4.2``, ``features.layer4.1``, … for ResNet50;
    ``features.head``, ``features.blocks.15``, … for EfficientNet-Lite0), then
    the stem. Containers of blocks (``nn.Sequential`` …) are opened up;
    containers of plain layers (a convolution with its batch norm) count as
    one unit. The order is the reverse of the order in which the modules were
    registered, which for these models is the order in which they run.

    >>> randomisation_order(model)[:3]
    ['fc', 'features.head', 'features.blocks.15']

    Raises ``TypeError`` if ``model`` is not a module, ``ValueError`` if it has
    no weights.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    names = _units(model, "")
    if not names:
        raise ValueError("model has no layers with weights to randomise")
    return names[::-1]


def _reinitialise(module: nn.Module, seed: int) -> None:
    """Draw fresh parameters for every weighted layer of ``module``, reproducibly."""
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(seed)
        for layer in module.modules():
            own = list(layer.parameters(recurse=False))
            if not own:
                continue
            if hasattr(layer, "reset_parameters"):
                layer.reset_parameters()  # PyTorch's default initialisation of a fresh layer
            else:
                with torch.no_grad():
                    for p in own:
                        p.normal_(0.0, float(p.std()) if p.numel() > 1 and float(p.std()) > 0 else 0.01)


def cascading_randomisation(model: nn.Module, layers: Sequence[str] | None = None, *, seed: int = 0
                            ) -> Iterator[tuple[tuple[str, ...], nn.Module]]:
    r"""Re-initialise a copy of ``model`` from the top down, one unit per step (Adebayo et al., 2018).

    Yields ``(randomised, copy)``: first ``((), copy)`` with the trained
    weights, then after each step the names randomised so far —
    ``("fc",)``, ``("fc", "features.head")``, … — with the same copy, now
    randomised down to that unit. The caller's ``model`` is never touched: a
    deep copy is made once and randomised further at every step, so use each
    yielded model before asking for the next.

    ``layers`` are dotted module names in the order to randomise (default:
    :func:`randomisation_order`). Each unit's layers get PyTorch's default
    initialisation (``reset_parameters()``: Kaiming-uniform convolutions and
    linear layers; batch norms back to the identity with running mean 0 and
    variance 1), drawn from a generator seeded with ``seed`` and the step number,
    so two runs give the same models; the global random state is left as it was.
    Parameters that do not require gradients keep that setting.

    >>> from itertools import islice
    >>> for names, randomised in islice(cascading_randomisation(model), 3):
    ...     print(names, hires_cam(randomised, x, c).shape)                # same x, same class
    () (7, 7)
    ('fc',) (7, 7)
    ('fc', 'features.head') (7, 7)

    Raises ``TypeError``/``ValueError`` for a model that is not a module, a
    model in training mode, unknown or repeated layer names, or a non-integer seed.
    """
    _check_model(model)
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if layers is None:
        names = randomisation_order(model)
    else:
        if isinstance(layers, str):
            raise TypeError("layers must be a sequence of dotted names, e.g. ['fc', 'features.head'], not one string")
        names = list(layers)
        if len(set(names)) != len(names):
            raise ValueError(f"layers contains repeated names: {names}")
        for name in names:
            try:
                model.get_submodule(name)
            except AttributeError:
                raise ValueError(
                    f"model has no layer named {name!r}; randomisation_order(model) lists the units"
                ) from None

    def steps() -> Iterator[tuple[tuple[str, ...], nn.Module]]:
        randomised = copy.deepcopy(model).eval()
        yield (), randomised
        done: list[str] = []
        for step, name in enumerate(names, start=1):
            _reinitialise(randomised.get_submodule(name), int(seed) * 100_003 + step)
            done.append(name)
            yield tuple(done), randomised

    return steps()


def rank_correlation(a, b, *, absolute: bool = False) -> float:
    r"""Spearman's rank correlation :math:`\rho` of two maps of the same shape.

    :math:`\rho` is Pearson's correlation of the pixels' ranks (ties share their
    mean rank), computed by :func:`scipy.stats.spearmanr`. It ignores the maps'
    scales, so a map and any rescaled copy have :math:`\rho = 1`. With
    ``absolute=True`` the ranks of :math:`|a|` and :math:`|b|` are compared
    (Adebayo et al. report both: a map whose sign flips but whose magnitude
    stays put has :math:`\rho = -1` but absolute :math:`\rho = 1`).

    >>> rank_correlation(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[10.0, 20.0], [30.0, 99.0]]))
    1.0

    Raises ``ValueError`` for maps of different shapes, NaN, or a constant map
    (it has no ranking; the correlation is undefined).
    """
    from scipy.stats import spearmanr

    u = as_map_array(a, "a").astype(np.float64).ravel()
    v = as_map_array(b, "b").astype(np.float64).ravel()
    if np.shape(a) != np.shape(b):
        raise ValueError(f"a and b must have the same shape (upsample one of them), got {np.shape(a)} and {np.shape(b)}")
    if absolute:
        u, v = np.abs(u), np.abs(v)
    for name, w in (("a", u), ("b", v)):
        if w.max() == w.min():
            raise ValueError(f"{name} is constant{' in absolute value' if absolute else ''}: "
                             "a map without a ranking has no rank correlation")
    return float(spearmanr(u, v).statistic)
