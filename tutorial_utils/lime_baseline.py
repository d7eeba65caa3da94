r"""LIME as the book's model-agnostic baseline: the classifier it needs, and its map on given superpixels.

LIME (Ribeiro, Singh and Guestrin, 2016) switches superpixels off at random
(here: paints them black), watches the class probability change, and fits a
weighted linear model of the probability on the on/off pattern. With
:math:`z \in \{0, 1\}^n` the superpixels kept in a sample, :math:`f_c` the
model's probability of class :math:`c` and :math:`\pi` LIME's proximity
kernel, the weight :math:`w_s` of superpixel :math:`s` solves

.. math::

    \min_{w, b} \sum_{z} \pi(z)\,\Big(f_c(\text{image with } z) - b - \sum_s w_s z_s\Big)^2
    \;(+\ \text{ridge penalty}).

Two steps are the same for every chapter that compares LIME with SeCAM:

* :func:`lime_classifier` — the batch → probabilities function LIME calls,
  for images at any size (``resize=True``: :meth:`CamModel.preprocess` per
  image) or already at the model's input size (``resize=False``: only scaled
  and normalised);
* :func:`lime_map` — one LIME explanation on superpixels given beforehand, as
  a per-pixel map (each pixel holds its superpixel's weight :math:`w_s`), the
  kind of map SeCAM and CAM give.

>>> classify = lime_classifier(model)
>>> classify(np.stack([image, image])).shape
(2, 1000)
"""

from __future__ import annotations

import contextlib
import functools
import numbers
from typing import TYPE_CHECKING, Callable, Iterator

import numpy as np
import torch

from .checks import positive_int

if TYPE_CHECKING:
    from .models import CamModel

__all__ = ["lime_classifier", "lime_map"]


def lime_classifier(model: CamModel, *, resize: bool = True) -> Callable[[np.ndarray], np.ndarray]:
    r"""The function LIME calls: a batch of RGB images ``N×H×W×3`` → class probabilities ``N×classes``.

    :math:`p = \operatorname{softmax}(\text{model}(x))`, with :math:`x` the
    normalised input :math:`x = (\text{pixel}/255 - \mu)/\sigma` of each image.
    LIME hands over copies of the image with some superpixels painted over,
    pixel values in ``0 … 255``.

    ``resize=True`` turns each image into the model's input with
    :meth:`CamModel.preprocess` (resized to :attr:`CamModel.input_size`; a
    float image is clipped to ``0 … 255`` and rounded down to ``uint8``
    first), so the images may have any size. ``resize=False`` only scales and
    normalises: the images must already be at the model's input size (as
    :meth:`CamModel.unnormalise` of a model input gives them, times 255).
    The network runs without autograd.

    >>> p = lime_classifier(model)(np.stack([image]))
    >>> p.shape, round(float(p.sum()), 4)
    ((1, 1000), 1.0)
    >>> pixels = (model.unnormalise(x) * 255).round().astype(np.uint8)[None]   # at the input size already
    >>> same = lime_classifier(model, resize=False)(pixels), lime_classifier(model)(pixels)
    >>> bool(np.allclose(*same, atol=1e-5))
    True

    The returned function raises what :meth:`CamModel.preprocess` (``resize=True``)
    or the model's forward pass (``resize=False``: an image of the wrong size)
    raises for a bad batch.
    """
    if resize:

        def classify(batch: np.ndarray) -> np.ndarray:
            # uint8 images go to preprocess as they are; floats are clipped to 0 … 255 first.
            inputs = [model.preprocess(b if b.dtype == np.uint8 else np.clip(b, 0, 255).astype(np.uint8))
                      for b in batch]
            with torch.inference_mode():
                return model(torch.cat(inputs)).softmax(dim=1).numpy()

    else:
        mean = torch.tensor(model.mean).view(1, 3, 1, 1)
        std = torch.tensor(model.std).view(1, 3, 1, 1)

        def classify(batch: np.ndarray) -> np.ndarray:
            t = torch.from_numpy(np.asarray(batch, dtype=np.float32)).permute(0, 3, 1, 2) / 255
            with torch.inference_mode():
                return model((t - mean) / std).softmax(dim=1).numpy()

    return classify


@contextlib.contextmanager
def _quiet_lime() -> Iterator[None]:
    """Switch off the progress bar LIME draws on every call inside the block; put it back after."""
    from lime import lime_image

    original = lime_image.tqdm
    lime_image.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        lime_image.tqdm = original


def lime_map(
    model: CamModel,
    image,
    class_idx: int,
    segments,
    *,
    samples: int,
    seed: int,
    resize: bool = True,
    batch_size: int = 10,
) -> np.ndarray:
    r"""LIME's weights :math:`w_s` for class ``class_idx`` on the given superpixels, painted back onto the pixels.

    Runs ``lime_image.LimeImageExplainer(random_state=seed).explain_instance``
    on ``image`` with ``samples`` perturbed images (superpixels switched off
    are painted black, ``hide_color=0``), the network called on ``batch_size``
    images at a time through :func:`lime_classifier` (``resize`` as there),
    LIME's sampling seeded with ``seed``, and LIME's progress bar switched off.
    Returns a ``float32`` map ``H×W`` in which every pixel of superpixel
    :math:`s` holds :math:`w_s` (0 for a superpixel LIME gave no weight).

    ``image`` is RGB ``H×W×3`` with values in ``0 … 255`` (``uint8`` as from
    :func:`load_image`); with ``resize=False`` it must be at the model's input
    size. ``segments`` are integer labels ``0 … n-1``, ``H×W``, as
    :func:`superpixels` returns them: LIME numbers its features that way.

    >>> from tutorial_utils import superpixels
    >>> segments = superpixels(image, n_segments=20)
    >>> m = lime_map(model, image, c, segments, samples=10, seed=0)
    >>> m.shape == segments.shape, m.dtype, bool(len(np.unique(m)) <= segments.max() + 1)
    (True, dtype('float32'), True)

    Raises ``ValueError`` for a bad ``image`` or ``segments`` (shape, labels
    not ``0 … n-1``), an image of the wrong size with ``resize=False``, a
    ``class_idx`` out of range or a non-positive ``samples`` or
    ``batch_size``; ``TypeError`` for non-integer labels.
    """
    from lime import lime_image

    rgb = np.asarray(image)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"image must be an RGB array H×W×3, got shape {rgb.shape}")
    if not resize and tuple(rgb.shape[:2]) != tuple(model.input_size):
        raise ValueError(
            f"with resize=False the image must be at the model's input size {tuple(model.input_size)}, "
            f"got {rgb.shape[:2]}; pass resize=True to let model.preprocess resize it"
        )
    labels = np.asarray(segments)
    if labels.shape != rgb.shape[:2]:
        raise ValueError(f"segments must have the image's height and width {rgb.shape[:2]}, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"segments must be integer labels, got dtype {labels.dtype}")
    if labels.min() != 0 or not np.bincount(labels.ravel()).all():
        raise ValueError("segments must be labelled 0 … n-1 without gaps (as superpixels returns them): "
                         "LIME numbers its features that way")
    if isinstance(class_idx, (bool, np.bool_)) or not isinstance(class_idx, numbers.Integral) \
            or not 0 <= class_idx < model.num_classes:
        raise ValueError(f"class_idx must be an integer in 0 … {model.num_classes - 1}, got {class_idx!r}")
    class_idx, n = int(class_idx), int(labels.max()) + 1
    samples = positive_int(samples, "samples")
    batch_size = positive_int(batch_size, "batch_size")

    with _quiet_lime():
        explainer = lime_image.LimeImageExplainer(random_state=seed)
        explanation = explainer.explain_instance(
            rgb,
            lime_classifier(model, resize=resize),
            labels=(class_idx,),
            top_labels=None,
            hide_color=0,
            num_samples=samples,
            batch_size=batch_size,
            segmentation_fn=lambda _: labels,
            random_seed=seed,
        )
    weights = dict(explanation.local_exp[class_idx])  # superpixel → weight
    per_segment = np.array([weights.get(s, 0.0) for s in range(n)])
    return per_segment[labels].astype(np.float32)  # painted back onto the pixels
