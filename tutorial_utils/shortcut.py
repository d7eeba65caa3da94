r"""A shortcut caught in the act: data with a spurious marker, a small CAM network, training.

The shortcut chapter needs a task with a real signal and a cheaper, spurious
one. :func:`shortcut_dataset` draws a disc or a square (the real signal, with
:func:`tutorial_utils.shapes_scene`) and, in a corner, a small "L" tag like the
lead markers and hospital tokens on radiographs. How often the tag appears on
each class is the knob: correlated with *disc* for training, removed, flipped,
or everywhere for testing. The same ``seed`` draws the same scenes whatever the
marker setting, so a test set *with* and *without* the marker differ only in
the marker's pixels.

:class:`SmallCamNet` ends in global average pooling and one linear layer, so
its class activation map :math:`M_c(x, y) = \sum_k w_k^c f_k(x, y)` decomposes
the logit exactly (:func:`tutorial_utils.class_activation_map` works on it
unchanged), and :func:`train_classifier` trains it, seeded, on the CPU.

>>> data = shortcut_dataset(4, seed=0)
>>> data.images.shape, data.labels.tolist(), data.has_marker.tolist()
((4, 32, 32, 3), [1, 0, 1, 1], [True, False, True, True])
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import as_rng, positive_int
from .models import GapLinearHead
from .shapes import shapes_scene

__all__ = [
    "MARKER_SETTINGS",
    "SHORTCUT_CLASSES",
    "ShortcutData",
    "SmallCamNet",
    "images_to_tensor",
    "predict_classes",
    "shortcut_dataset",
    "train_classifier",
]

#: Label ``i`` means ``SHORTCUT_CLASSES[i]``; 1 (*disc*) plays the "disease".
SHORTCUT_CLASSES = ("square", "disc")

#: Named marker settings: the probability of the marker on a *square* and on a *disc*.
MARKER_SETTINGS = {
    "correlated": (0.01, 0.99),  # on nearly every disc, nearly no square: the shortcut model's training data
    "uncorrelated": (0.5, 0.5),  # on half of each class: the marker says nothing
    "none": (0.0, 0.0),  # the marker removed
    "flipped": (0.99, 0.01),  # the correlation reversed
    "everywhere": (1.0, 1.0),  # a marker on every image
}

# The tag: a white 5×5 square with a dark "L", drawn in a corner. It is scaled
# by size // 32 for larger images.
_GLYPH = np.array(
    [
        [1, 1, 1, 1, 1],
        [1, 0, 1, 1, 1],
        [1, 0, 1, 1, 1],
        [1, 0, 0, 0, 1],
        [1, 1, 1, 1, 1],
    ],
    dtype=bool,
)
_LIGHT, _DARK = 245, 20


class ShortcutData(NamedTuple):
    """What :func:`shortcut_dataset` returns (unpack it, or use the fields).

    ``images`` RGB ``uint8`` ``n×H×W×3``; ``labels`` ``int64`` ``n`` (index into
    :data:`SHORTCUT_CLASSES`); ``marker`` and ``objects`` boolean ``n×H×W``:
    the marker's pixels (all ``False`` where an image has none) and the shape's.
    """

    images: np.ndarray
    labels: np.ndarray
    marker: np.ndarray
    objects: np.ndarray

    @property
    def has_marker(self) -> np.ndarray:
        """Boolean ``n``: which images carry the marker."""
        return self.marker.any(axis=(1, 2))


def _marker_rates(marker) -> tuple[float, float]:
    if isinstance(marker, str):
        if marker not in MARKER_SETTINGS:
            raise ValueError(f"marker must be one of {', '.join(MARKER_SETTINGS)} or a pair of "
                             f"probabilities (on squares, on discs); got {marker!r}")
        return MARKER_SETTINGS[marker]
    try:
        rates = tuple(float(r) for r in marker)
    except (TypeError, ValueError):
        rates = ()
    if len(rates) != 2 or not all(0.0 <= r <= 1.0 for r in rates):
        raise ValueError(f"marker must be one of {', '.join(MARKER_SETTINGS)} or a pair of "
                         f"probabilities in [0, 1] (on squares, on discs); got {marker!r}")
    return rates


def shortcut_dataset(n: int, seed=0, *, size: int = 32, marker="correlated") -> ShortcutData:
    r"""``n`` scenes of one disc or one square, with a corner marker whose presence depends on the class.

    Each scene is :func:`shapes_scene` with one shape (label 1 = disc with
    probability ½, else 0 = square); then, with probability
    :math:`p_{\text{label}}`, a white "L" tag is drawn in a corner that the
    shape does not touch. ``marker`` gives :math:`(p_0, p_1)` — the chance of the
    marker on a square and on a disc — as a pair, or by name from
    :data:`MARKER_SETTINGS`: ``"correlated"`` (0.01, 0.99),
    ``"uncorrelated"`` (0.5, 0.5), ``"none"``, ``"flipped"`` (0.99, 0.01) or
    ``"everywhere"``. Every random number is drawn
    whatever the setting, so one ``seed`` gives the same shapes, backgrounds and
    marker corners for every ``marker``: only the marker's pixels differ.

    >>> with_tag = shortcut_dataset(8, seed=3, marker="everywhere")
    >>> without = shortcut_dataset(8, seed=3, marker="none")
    >>> bool((with_tag.images[~with_tag.marker] == without.images[~with_tag.marker]).all())
    True

    Raises
    ------
    ValueError
        ``n`` not a positive int, ``size`` below 32, or an unknown ``marker``.
    TypeError
        ``seed`` neither an int nor a ``numpy.random.Generator``.
    """
    n = positive_int(n, "n")
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral) or size < 32:
        raise ValueError(f"size must be an int ≥ 32 pixels, got {size!r}")
    rates = _marker_rates(marker)
    rng = as_rng(seed)
    size = int(size)
    scale = size // 32
    glyph = np.kron(_GLYPH, np.ones((scale, scale), dtype=bool))
    m, gap = glyph.shape[0], scale  # marker side and distance from the border
    corners = [(gap, gap), (gap, size - gap - m), (size - gap - m, gap), (size - gap - m, size - gap - m)]

    images = np.empty((n, size, size, 3), dtype=np.uint8)
    labels = np.empty(n, dtype=np.int64)
    marker_masks = np.zeros((n, size, size), dtype=bool)
    objects = np.zeros((n, size, size), dtype=bool)
    for i in range(int(n)):
        label = int(rng.integers(0, 2))
        image, pixel_labels = shapes_scene(rng, size=size, kinds=[1 if label == 1 else 2])
        shape = pixel_labels > 0
        # Corners whose marker box, grown by two pixels, stays clear of the shape.
        free = [(r, c) for r, c in corners
                if not shape[max(r - 2, 0):r + m + 2, max(c - 2, 0):c + m + 2].any()]
        r, c = (free or corners)[int(rng.integers(len(free or corners)))]
        if rng.uniform() < rates[label]:
            patch = image[r:r + m, c:c + m]
            patch[glyph] = _LIGHT
            patch[~glyph] = _DARK
            marker_masks[i, r:r + m, c:c + m] = True
        images[i], labels[i] = image, label
        objects[i] = shape & ~marker_masks[i]
    return ShortcutData(images, labels, marker_masks, objects)


def images_to_tensor(images) -> torch.Tensor:
    r"""RGB ``uint8`` images ``n×H×W×3`` (or one ``H×W×3``) to a float tensor ``n×3×H×W`` in :math:`[-0.5, 0.5]`.

    Each value becomes :math:`v/255 - 0.5`: centred on zero, which is all the
    normalisation the small networks of this book need.

    >>> images_to_tensor(np.full((2, 4, 4, 3), 255, np.uint8)).shape
    torch.Size([2, 3, 4, 4])

    Raises ``TypeError`` for anything but a ``uint8`` numpy array and
    ``ValueError`` for a shape other than ``(n, H, W, 3)`` or ``(H, W, 3)``.
    """
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        kind = images.dtype if isinstance(images, np.ndarray) else type(images).__name__
        raise TypeError(f"images must be a uint8 numpy array (n, H, W, 3), got {kind}")
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must have shape (n, H, W, 3) or (H, W, 3), got {images.shape}")
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255 - 0.5


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


class SmallCamNet(GapLinearHead, nn.Module):
    r"""A small CNN ending in global average pooling and one linear layer — CAM's architecture.

    ``features``: convolution blocks (3×3 convolution, batch norm, ReLU) of
    ``channels`` widths, with 2×2 max pooling between them, giving :math:`K` =
    ``channels[-1]`` feature maps :math:`f_k(x, y)` on a grid ``2**(len(channels)-1)``
    times coarser than the image. Then

    .. math::

        F_k = \frac{1}{hw}\sum_{x,y} f_k(x,y), \qquad S_c = \sum_k w_k^c F_k + b_c ,

    with :math:`w` = :attr:`fc_weight` and :math:`b` = :attr:`fc_bias`, so
    ``class_activation_map(f, net.fc_weight, c)`` works unchanged.

    >>> net = SmallCamNet()
    >>> logits, f = net.forward_features(torch.zeros(1, 3, 32, 32))
    >>> tuple(logits.shape), tuple(f.shape)
    ((1, 2), (1, 32, 8, 8))

    Raises ``ValueError`` for fewer than one class or an empty or
    non-positive ``channels``.
    """

    def __init__(self, n_classes: int = 2, channels=(16, 32, 32)) -> None:
        super().__init__()
        if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral) or n_classes < 1:
            raise ValueError(f"n_classes must be a positive int, got {n_classes!r}")
        channels = tuple(channels)
        if not channels or not all(isinstance(c, numbers.Integral) and not isinstance(c, bool) and c > 0
                                    for c in channels):
            raise ValueError(f"channels must be a non-empty sequence of positive ints, got {channels!r}")
        layers: list[nn.Module] = []
        c_in = 3
        for i, c_out in enumerate(channels):
            if i:
                layers.append(nn.MaxPool2d(2))
            layers.append(_block(c_in, int(c_out)))
            c_in = int(c_out)
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(c_in, int(n_classes))

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, feature_maps)``: ``B×classes`` and :math:`f`, ``B×K×h×w``."""
        f = self.features(x)
        return self.fc(f.mean(dim=(2, 3))), f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits :math:`S`, ``B×classes``."""
        return self.forward_features(x)[0]

    @property
    def feature_layer(self) -> nn.Module:
        """The module whose output feeds global average pooling (for ``grad_cam`` and hooks)."""
        return self.features[-1]


def _check_pair(images, labels) -> tuple[torch.Tensor, torch.Tensor]:
    x = images_to_tensor(images)
    y = np.asarray(labels)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or len(y) != len(x):
        raise ValueError(f"labels must be {len(x)} integers, one per image, got shape {y.shape} "
                         f"and dtype {y.dtype}")
    return x, torch.from_numpy(y.astype(np.int64))


def train_classifier(net: nn.Module, images, labels, *, steps: int, batch: int = 32,
                     lr: float = 3e-3, seed: int = 0, desc: str | None = None) -> np.ndarray:
    r"""Train ``net`` in place with Adam on the cross-entropy; returns the loss of every step.

    Each step draws ``batch`` random images (a ``torch.Generator`` seeded with
    ``seed``, so the batches do not depend on the global random state), and
    takes one Adam step of learning rate ``lr`` on

    .. math::

        L = -\frac{1}{B}\sum_{i} \log \frac{e^{S_{y_i}(x_i)}}{\sum_{c} e^{S_c(x_i)}} .

    The same network (same initial weights), data and arguments give the same
    weights on the same machine. The network is left in ``eval`` mode. With
    ``desc`` the steps show a :func:`tutorial_utils.progress` report.

    >>> losses = train_classifier(net, data.images, data.labels, steps=600)   # doctest: +SKIP

    Raises
    ------
    ValueError
        Non-positive ``steps``, ``batch`` or ``lr``; labels that are not one
        integer per image or not in ``0 … classes-1``.
    TypeError
        Images that are not ``uint8`` ``n×H×W×3``; ``net`` not an ``nn.Module``;
        ``seed`` not an int.
    RuntimeError
        Called under ``torch.no_grad()``.
    """
    from .progress import progress

    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch nn.Module, got {type(net).__name__}")
    x, y = _check_pair(images, labels)
    steps, batch = positive_int(steps, "steps"), positive_int(batch, "batch")
    if isinstance(lr, (bool, np.bool_)) or not isinstance(lr, numbers.Real) or not lr > 0 or not np.isfinite(lr):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not torch.is_grad_enabled():
        raise RuntimeError("train_classifier needs autograd: call it outside torch.no_grad()")
    net.eval()  # a forward pass in training mode would update batch-norm statistics
    with torch.no_grad():
        n_classes = net(x[:1]).shape[1]
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must lie in 0 … {n_classes - 1} (the network has {n_classes} classes), "
                         f"got {int(y.min())} … {int(y.max())}")
    optimiser = torch.optim.Adam(net.parameters(), lr=float(lr))
    batches = torch.Generator().manual_seed(int(seed))
    losses = np.empty(steps)
    net.train()
    try:
        iterator = progress(range(steps), desc=desc) if desc else range(steps)
        for step in iterator:
            idx = torch.randint(0, len(x), (batch,), generator=batches)
            loss = F.cross_entropy(net(x[idx]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses[step] = loss.item()
    finally:
        net.eval()
    return losses


def predict_classes(net: nn.Module, images, *, batch: int = 500) -> np.ndarray:
    r"""The predicted class of each image, ``int64`` ``n``: :math:`\arg\max_c S_c`, in ``eval`` mode, without gradients.

    >>> predict_classes(SmallCamNet(), np.zeros((3, 32, 32, 3), np.uint8)).shape
    (3,)

    Raises ``TypeError`` for images that are not ``uint8`` ``n×H×W×3`` or a
    ``net`` that is not an ``nn.Module``; ``ValueError`` for a bad ``batch``.
    """
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch nn.Module, got {type(net).__name__}")
    x = images_to_tensor(images)
    batch = positive_int(batch, "batch")
    net.eval()
    with torch.no_grad():
        return torch.cat([net(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)]).numpy()
