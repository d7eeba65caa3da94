r"""Small CAM networks that train on a CPU in seconds, for the chapters that train their own.

:class:`SmallCamNet` has CAM's architecture (convolutions, global average pooling, one linear layer),
so :math:`M_c(x, y) = \sum_k w_k^c f_k(x, y)` decomposes its logit exactly.

>>> net = SmallCamNet(2, channels=(8, 8))
>>> logits, f = net.forward_features(images_to_tensor(np.zeros((3, 32, 32, 3), np.uint8)))
>>> tuple(logits.shape), tuple(f.shape)           # B×classes, and K=8 maps on a 16×16 grid
((3, 2), (3, 8, 16, 16))
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .checks import number_in, positive_int, require_grad, seed_int
from .models import GapLinearHead

__all__ = ["SmallCamNet", "conv_block", "images_to_tensor", "predict_classes", "recompute_batchnorm",
           "train_classifier"]


def images_to_tensor(images) -> torch.Tensor:
    r"""RGB ``uint8`` images ``n×H×W×3`` (or one ``H×W×3``) to a float tensor ``n×3×H×W`` of :math:`v/255 - 0.5`.

    Centred on zero: all the normalisation the small networks of this book need.

    >>> images_to_tensor(np.full((2, 4, 4, 3), 255, np.uint8)).shape
    torch.Size([2, 3, 4, 4])

    Raises ``TypeError`` for anything but a ``uint8`` numpy array, ``ValueError`` for another shape.
    """
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        kind = images.dtype if isinstance(images, np.ndarray) else type(images).__name__
        raise TypeError(f"images must be a uint8 numpy array (n, H, W, 3), got {kind}")
    if images.ndim == 3:
        images = images[None]
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"images must have shape (n, H, W, 3) or (H, W, 3), got {images.shape}")
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float() / 255 - 0.5


def conv_block(c_in: int, c_out: int, *, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    r"""A 3×3 convolution (no bias), batch normalisation and a ReLU: the brick of the book's small networks.

    ``padding = dilation`` keeps the grid size at ``stride=1``; ``stride=2`` halves
    it; ``dilation`` widens the receptive field without shrinking the grid.

    >>> conv_block(16, 32, stride=2)(torch.zeros(1, 16, 32, 32)).shape
    torch.Size([1, 32, 16, 16])
    """
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, stride, padding=dilation, dilation=dilation, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class SmallCamNet(GapLinearHead):
    r"""A small CNN ending in global average pooling and one linear layer — CAM's architecture.

    ``features``: :func:`conv_block` s of ``channels`` widths with 2×2 max pooling between
    them, giving :math:`K` = ``channels[-1]`` maps :math:`f_k(x, y)`. Then

    .. math::

        F_k = \frac{1}{hw}\sum_{x,y} f_k(x,y), \qquad S_c = \sum_k w_k^c F_k + b_c ,

    with :math:`w` = :attr:`fc_weight`, so ``class_activation_map(f, net.fc_weight, c)`` works unchanged.
    """

    def __init__(self, n_classes: int = 2, channels=(16, 32, 32)) -> None:
        n_classes = positive_int(n_classes, "n_classes")
        widths = [3] + [positive_int(c, "channels") for c in channels]
        if len(widths) == 1:
            raise ValueError("channels must be a non-empty sequence of positive ints, got an empty one")
        layers: list[nn.Module] = []
        for i, (c_in, c_out) in enumerate(zip(widths, widths[1:])):
            if i:
                layers.append(nn.MaxPool2d(2))
            layers.append(conv_block(c_in, c_out))
        super().__init__(nn.Sequential(*layers), nn.Linear(widths[-1], n_classes))


def _as_net(net) -> nn.Module:
    if not isinstance(net, nn.Module):
        raise TypeError(f"net must be a torch nn.Module, got {type(net).__name__}")
    return net


def train_classifier(net: nn.Module, images, labels, *, steps: int, batch: int = 32,
                     lr: float = 3e-3, seed: int = 0) -> np.ndarray:
    r"""Train ``net`` in place with Adam on the cross-entropy; returns the loss of every step.

    Each step draws ``batch`` random images (a ``torch.Generator`` seeded with ``seed``)
    and takes one Adam step of learning rate ``lr`` on

    .. math::

        L = -\frac{1}{B}\sum_{i} \log \frac{e^{S_{y_i}(x_i)}}{\sum_{c} e^{S_c(x_i)}} .

    The same initial weights, data and arguments give the same weights on the same
    machine. At the end, ``recompute_batchnorm`` re-estimates the batch-norm statistics on
    all ``images`` with the final weights, and the network is left in ``eval`` mode.

    >>> data = shortcut_dataset(64, seed=0)
    >>> net = SmallCamNet()
    >>> losses = train_classifier(net, data.images, data.labels, steps=5, seed=0)
    >>> losses.shape, net.training
    ((5,), False)

    Raises ``ValueError`` for a bad ``steps``, ``batch``, ``lr`` or labels (one integer per
    image, in ``0 … classes-1``), ``TypeError`` for bad images, ``net`` or ``seed``, and
    ``RuntimeError`` under ``torch.no_grad()``.
    """
    net, x = _as_net(net), images_to_tensor(images)
    y = np.asarray(labels)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) or len(y) != len(x):
        raise ValueError(f"labels must be {len(x)} integers, one per image, got shape {y.shape} and dtype {y.dtype}")
    steps, batch = positive_int(steps, "steps"), positive_int(batch, "batch")
    lr, seed = number_in(lr, "lr", 0, above=True), seed_int(seed)
    require_grad("train_classifier")
    net.eval()  # a forward pass in training mode would update batch-norm statistics
    with torch.no_grad():
        n_classes = net(x[:1]).shape[1]
    if y.min() < 0 or y.max() >= n_classes:
        raise ValueError(f"labels must lie in 0 … {n_classes - 1} (the network has {n_classes} classes), "
                         f"got {int(y.min())} … {int(y.max())}")
    y = torch.from_numpy(y.astype(np.int64))

    optimiser = torch.optim.Adam(net.parameters(), lr=lr)
    batches = torch.Generator().manual_seed(seed)
    losses = np.empty(steps)
    net.train()
    try:
        for step in range(steps):
            idx = torch.randint(0, len(x), (batch,), generator=batches)
            loss = F.cross_entropy(net(x[idx]), y[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses[step] = loss.item()
    finally:
        net.eval()
    recompute_batchnorm(net, x)
    return losses


def recompute_batchnorm(net: nn.Module, images, *, batch: int = 500) -> nn.Module:
    r"""Re-estimate every batch-norm layer's statistics on ``images`` with the final weights ("precise BN").

    Eval mode normalises with running averages :math:`\hat\mu \leftarrow 0.9\,\hat\mu + 0.1\,\mu_{\text{batch}}`
    taken while the weights moved; this replaces them by the mean over all ``images`` (``uint8``
    ``n×H×W×3`` or a tensor from ``images_to_tensor``) of the batch statistics under the weights
    as they are (Wu and Johnson, 2021). The weights do not change; the network is left in eval mode.
    """
    net, batch = _as_net(net), positive_int(batch, "batch")
    x = images if isinstance(images, torch.Tensor) else images_to_tensor(images)
    layers = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in layers]
    for m in layers:
        m.reset_running_stats()
        m.momentum = None  # None: a cumulative average over the batches below, not a running one
    net.train()
    try:
        with torch.no_grad():
            for i in range(0, len(x), batch):
                net(x[i:i + batch])
    finally:
        for m, momentum in zip(layers, momenta):
            m.momentum = momentum
        net.eval()
    return net


def predict_classes(net: nn.Module, images, *, batch: int = 500) -> np.ndarray:
    r"""The predicted class of each image, ``int64`` ``n``: :math:`\arg\max_c S_c`, in ``eval`` mode, without gradients.

    >>> predict_classes(SmallCamNet(), np.zeros((3, 32, 32, 3), np.uint8)).shape
    (3,)
    """
    net, x, batch = _as_net(net), images_to_tensor(images), positive_int(batch, "batch")
    net.eval()
    with torch.no_grad():
        return torch.cat([net(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)]).numpy()
