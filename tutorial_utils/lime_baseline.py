r"""LIME as the book's model-agnostic baseline: the classifier it needs, and its map on given superpixels.

LIME (Ribeiro, Singh and Guestrin, 2016) switches superpixels off at random (here:
paints them black), watches the class probability change, and fits a weighted linear
model of the probability on the on/off pattern. With :math:`z \in \{0, 1\}^n` the
superpixels kept, :math:`f_c` the probability of class :math:`c` and :math:`\pi` LIME's
proximity kernel, the weight :math:`w_s` of superpixel :math:`s` solves

.. math::

    \min_{w, b} \sum_{z} \pi(z)\,\Big(f_c(\text{image with } z) - b - \sum_s w_s z_s\Big)^2
    \;(+\ \text{ridge penalty}).

>>> classify = lime_classifier(model)
>>> classify(np.stack([image, image])).shape
(2, 1000)
"""

from __future__ import annotations

import functools
import numbers
from typing import TYPE_CHECKING, Callable
from unittest import mock

import numpy as np
import torch

from .checks import as_segments, positive_int

if TYPE_CHECKING:
    from .models import CamModel

__all__ = ["lime_classifier", "lime_map"]


def lime_classifier(model: CamModel, *, resize: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    r"""The function LIME calls: RGB images ``N×H×W×3`` (values ``0 … 255``) → probabilities ``N×classes``.

    :math:`p = \operatorname{softmax}(\text{model}(x))` with :math:`x = (\text{pixel}/255 - \mu)/\sigma`,
    without autograd. ``resize=True`` prepares each image with :meth:`CamModel.preprocess`
    (any size; a float image is clipped to ``0 … 255`` and rounded down to ``uint8`` first);
    ``resize=False`` only scales and normalises images already at the model's input size.

    >>> pixels = (model.unnormalise(x) * 255).round().astype(np.uint8)[None]   # at the input size already
    >>> same = lime_classifier(model, resize=False)(pixels), lime_classifier(model)(pixels)
    >>> bool(np.allclose(*same, atol=1e-5))
    True
    """
    mean = torch.tensor(model.mean).view(1, 3, 1, 1)
    std = torch.tensor(model.std).view(1, 3, 1, 1)

    def classify(batch: np.ndarray) -> np.ndarray:
        if resize:
            x = torch.cat([model.preprocess(b if b.dtype == np.uint8 else np.clip(b, 0, 255).astype(np.uint8))
                           for b in batch])
        else:
            x = (torch.from_numpy(np.asarray(batch, dtype=np.float32)).permute(0, 3, 1, 2) / 255 - mean) / std
        with torch.inference_mode():
            return model(x).softmax(dim=1).numpy()

    return classify


def lime_map(model: CamModel, image, class_idx: int, segments, *, samples: int, seed: int, resize: bool = True,
             batch_size: int = 10) -> np.ndarray:
    r"""LIME's weights :math:`w_s` for class ``class_idx`` on the given superpixels, painted back onto the pixels.

    Runs ``LimeImageExplainer(random_state=seed).explain_instance`` on ``image`` (RGB,
    values ``0 … 255``) with ``samples`` perturbed copies (switched-off superpixels painted
    black), the network called through :func:`lime_classifier` (``resize`` as there) on
    ``batch_size`` images at a time. ``segments`` are labels ``0 … n-1`` as
    :func:`superpixels` returns them. Returns a ``float32`` ``H×W`` map in which every
    pixel of superpixel :math:`s` holds :math:`w_s` (0 where LIME gave no weight).

    >>> segments = superpixels(image, n_segments=20)
    >>> m = lime_map(model, image, c, segments, samples=10, seed=0)
    >>> m.shape == segments.shape, m.dtype, bool(len(np.unique(m)) <= segments.max() + 1)
    (True, dtype('float32'), True)

    Raises ``ValueError`` for a bad image, segments (labels not ``0 … n-1``), ``class_idx``, ``samples`` or
    ``batch_size``, or an image not at the input size with ``resize=False``; ``TypeError`` for non-integer labels.
    """
    from lime import lime_image

    rgb, labels = np.asarray(image), as_segments(segments)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image must be an RGB array H×W×3, got shape {rgb.shape}")
    if not resize and rgb.shape[:2] != tuple(model.input_size):
        raise ValueError(f"with resize=False the image must be at the model's input size {tuple(model.input_size)}, "
                         f"got {rgb.shape[:2]}; pass resize=True to let model.preprocess resize it")
    if labels.shape != rgb.shape[:2]:
        raise ValueError(f"segments must have the image's height and width {rgb.shape[:2]}, got {labels.shape}")
    if labels.min() != 0 or not np.bincount(labels.ravel()).all():
        raise ValueError("segments must be labelled 0 … n-1 without gaps (as superpixels returns them): "
                         "LIME numbers its features that way")
    if isinstance(class_idx, (bool, np.bool_)) or not isinstance(class_idx, numbers.Integral) \
            or not 0 <= class_idx < model.num_classes:
        raise ValueError(f"class_idx must be an integer in 0 … {model.num_classes - 1}, got {class_idx!r}")
    samples, batch_size = positive_int(samples, "samples"), positive_int(batch_size, "batch_size")

    with mock.patch.object(lime_image, "tqdm", functools.partial(lime_image.tqdm, disable=True)):  # no progress bar
        explanation = lime_image.LimeImageExplainer(random_state=seed).explain_instance(
            rgb, lime_classifier(model, resize=resize), labels=(int(class_idx),), top_labels=None, hide_color=0,
            num_samples=samples, batch_size=batch_size, segmentation_fn=lambda _: labels, random_seed=seed)
    weights = dict(explanation.local_exp[int(class_idx)])  # superpixel s → w_s
    per_segment = np.array([weights.get(s, 0.0) for s in range(labels.max() + 1)])
    return per_segment[labels].astype(np.float32)  # painted back onto the pixels
