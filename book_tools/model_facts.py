"""Which network produced a page, in words: the figures a chapter relies on, read from the network.

The book is written for ResNet50, but where its ImageNet weights cannot be had
the chapters run on EfficientNet-Lite0 (:func:`~tutorial_utils.models.load_model`).
Every chapter that shows a trained model's output says near its top which
network produced it, with :func:`model_note`. ResNet50's own figures come from
torchvision's ``resnet50()`` built **without weights** (:func:`resnet50_facts`),
so they are true on every machine and never typed.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn

from . import weights
from tutorial_utils.models import MODEL_ENV, CamModel, GapLinearHead

__all__ = ["NetworkFacts", "model_note", "network_facts", "resnet50_facts"]


@dataclass(frozen=True)
class NetworkFacts:
    """The figures a chapter's text relies on, read from a network (never typed).

    ``channels`` (K) and ``grid`` (h, w) describe the last feature maps at the
    network's ``input_size`` (H, W); ``classes`` is the length of the logits.
    """

    name: str
    channels: int
    grid: tuple[int, int]
    input_size: tuple[int, int]
    classes: int
    parameters: int

    def summary(self) -> str:
        """The facts as a phrase, e.g. ``"2,048 channels in its last feature maps, a 7 × 7 grid at …"``."""
        (h, w), (H, W) = self.grid, self.input_size
        return (f"{self.channels:,} channels in its last feature maps, a {h} × {w} grid at its "
                f"{H} × {W} input, {self.classes:,} classes and "
                f"{self.parameters / 1e6:.1f} million parameters")


def _grid_of(trunk: nn.Module, size: tuple[int, int]) -> tuple[int, int]:
    with torch.no_grad():
        out = trunk(torch.zeros(1, 3, *size))
    return int(out.shape[-2]), int(out.shape[-1])


@functools.lru_cache(maxsize=None)
def resnet50_facts() -> NetworkFacts:
    """ResNet50's figures, from torchvision's ``resnet50()`` built **without weights** (no download).

    The input size is the crop of torchvision's ImageNet weights (read from the
    weights' metadata, which ships with torchvision); the grid is measured by
    running a blank image through the trunk.

    >>> import torchvision
    >>> facts = resnet50_facts()
    >>> facts.name, facts.channels == torchvision.models.resnet50().fc.in_features
    ('ResNet50', True)
    """
    import torchvision

    net = torchvision.models.resnet50(weights=None).eval()
    crop = int(weights.resnet50_weights().transforms().crop_size[0])
    trunk = nn.Sequential(*list(net.children())[:-2])
    return NetworkFacts(
        name="ResNet50",
        channels=int(net.fc.in_features),
        grid=_grid_of(trunk, (crop, crop)),
        input_size=(crop, crop),
        classes=int(net.fc.out_features),
        parameters=sum(p.numel() for p in net.parameters()),
    )


def network_facts(model, input_size: tuple[int, int] | None = None) -> NetworkFacts:
    """The same figures for a network: a loaded :class:`CamModel` (its grid measured at its own input size),
    any other :class:`GapLinearHead` (a small CAM network; give its ``input_size=(H, W)``), or
    :class:`NetworkFacts` (returned as they are)."""
    if isinstance(model, NetworkFacts):
        return model
    if isinstance(model, CamModel):
        size, name = tuple(model.input_size), model.display_name
    elif isinstance(model, GapLinearHead):
        if input_size is None:
            raise ValueError(f"a {type(model).__name__} has no input size of its own: give input_size=(H, W)")
        size, name = (int(input_size[0]), int(input_size[1])), type(model).__name__
    else:
        raise TypeError("model must be a CamModel from load_model(), another GapLinearHead or NetworkFacts, "
                        f"got {type(model).__name__}")
    return NetworkFacts(
        name=name,
        channels=model.num_channels,
        grid=_grid_of(model.features, size),
        input_size=size,
        classes=model.num_classes,
        parameters=sum(p.numel() for p in model.parameters()),
    )


def model_note(model: CamModel) -> str:
    """One plain-text paragraph for the top of a chapter: which network produced the page, and its figures.

    For ResNet50 it names the weights and gives its figures. For any other
    network it says why that network is used, gives its figures and then
    ResNet50's (from :func:`resnet50_facts`), so that a reader can map the text,
    written for ResNet50, onto the page. Chapters quote it with
    ``{eval}`model_note(model)``` and follow it with a link to Setup.
    """
    if not isinstance(model, CamModel):
        raise TypeError(f"model must be a CamModel from load_model(), got {type(model).__name__}")
    facts, r50 = network_facts(model), resnet50_facts()
    if model.name == "resnet50":
        return (f"The figures and numbers on this page come from ResNet50 with {model.weights_source}: "
                f"{facts.summary()}.")
    why = ("because ResNet50's ImageNet weights could not be loaded on the machine that ran it"
           if model.is_fallback else "because it was chosen with " + MODEL_ENV)
    return (f"The figures and numbers on this page come from {model.display_name} "
            f"({model.weights_source}), not ResNet50, {why}. {model.display_name} has {facts.summary()}. "
            f"The text is written for ResNet50, which has {r50.summary()}.")
