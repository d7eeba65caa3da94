"""What the benchmark times: each method as one call on one image, and the SLIC implementations it compares.

``x = model.preprocess(image)`` is computed once, before any timing, and every
pipeline starts from it:

* :func:`forward` — ``model(x)`` under ``torch.inference_mode()``;
* :func:`cam_maps` — the forward pass, the top :data:`TOP_K` classes, their
  class activation maps upsampled to the full image;
* :func:`secam_maps` — the same top :data:`TOP_K` maps, averaged inside given
  superpixels on the feature grid (``secam(..., from_grid=True)``) and painted
  at full resolution;
* :func:`secam_all_classes` — the forward pass and the superpixel means of
  every class (``secam_fast.superpixel_means``), no full-resolution map;
* :func:`skimage_slic` and :func:`fast_slic` — ``superpixels`` and
  ``fast_superpixels`` with the book's :data:`N_SEGMENTS` and :data:`COMPACTNESS`;
* :func:`time_cheap_methods`, :func:`time_superpixels`, :func:`time_lime` —
  the rounds in which they are timed;
* :func:`slic_implementations` and :func:`compare_slic` — scikit-image's SLIC
  against OpenCV contrib's (ten rounds, and the fast two): time, superpixel
  count, boundary recall and undersegmentation error on generated scenes
  (:func:`quality_scenes`), and the correlation of the SeCAM maps;
  :func:`superpixel_quality` — the fast superpixels against scikit-image's on
  those scenes, always measured.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import sys
import time
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch

from tutorial_utils import (
    BOUNDARY_TOLERANCE,
    CamModel,
    boundary_recall,
    class_activation_map,
    fast_superpixels,
    grad_cam,
    hires_cam,
    lime_map,
    secam,
    shapes_scene,
    superpixels,
    undersegmentation_error,
    upsample,
)
from tutorial_utils.secam_fast import clear_superpixel_cache, superpixel_means

from .timing import time_interleaved

if TYPE_CHECKING:
    from pytorch_grad_cam import GradCAM

__all__ = [
    "BOUNDARY_TOLERANCE",
    "COMPACTNESS",
    "LIME_BATCH",
    "LIME_WARMUP_SAMPLES",
    "N_SEGMENTS",
    "SCENE_SEEDS",
    "SCENE_SHAPES",
    "SCENE_SIZE",
    "TOP_K",
    "Segmenter",
    "cam_maps",
    "compare_slic",
    "fast_slic",
    "forward",
    "opencv_threads",
    "pytorch_grad_cam",
    "quality_scenes",
    "secam_all_classes",
    "secam_maps",
    "skimage_slic",
    "slic_implementations",
    "superpixel_quality",
    "time_cheap_methods",
    "time_lime",
    "time_superpixels",
]

#: SLIC's parameters, the book's defaults.
N_SEGMENTS = 100
COMPACTNESS = 10.0
#: How many classes the CAM and SeCAM pipelines map.
TOP_K = 5
#: Images per call of the network inside LIME.
LIME_BATCH = 50
#: Samples of LIME's untimed warm-up run (at most ``lime_samples``).
LIME_WARMUP_SAMPLES = 5
#: The generated scenes on which superpixel implementations are scored.
SCENE_SEEDS = tuple(range(10))
SCENE_SIZE = 256
SCENE_SHAPES = (2, 5)

#: A function image → superpixel labels.
Segmenter = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- #
# The timed pipelines
# --------------------------------------------------------------------------- #


def forward(model: CamModel, x: torch.Tensor) -> torch.Tensor:
    """The forward pass under ``torch.inference_mode()``: logits ``(1, classes)``.

    >>> forward(model, x).shape
    torch.Size([1, 1000])

    Raises what the model's forward pass raises for a bad ``x``.
    """
    with torch.inference_mode():
        return model(x)


def cam_maps(model: CamModel, x: torch.Tensor, image: np.ndarray) -> np.ndarray:
    r"""CAM of the top :data:`TOP_K` classes at the image's resolution: ``(TOP_K, H, W)``.

    :math:`M_c = \sum_k w^c_k f_k` for the five classes of highest logit, each
    upsampled to ``image``'s height and width — one forward pass, no backward.

    >>> image.shape, cam_maps(model, x, image).shape
    ((400, 600, 3), (5, 400, 600))

    Raises what ``model.forward_features`` and ``upsample`` raise.
    """
    with torch.inference_mode():
        logits, f = model.forward_features(x)
        top = logits[0].topk(TOP_K).indices.tolist()
        maps = class_activation_map(f, model.fc_weight, top)
    return upsample(maps, image)


def secam_maps(model: CamModel, x: torch.Tensor, image: np.ndarray, segments: np.ndarray) -> np.ndarray:
    r"""SeCAM of the top :data:`TOP_K` classes with the given superpixels, at full resolution: ``(TOP_K, H, W)``.

    The forward pass and the top classes' maps on the feature grid, as in
    :func:`cam_maps`; then ``secam(maps, segments, from_grid=True)``: the means
    over the superpixels by linearity, :math:`\bar M_c(s) = \sum_{ij} P[s, ij] M_c(i, j)`,
    painted onto the pixels — the same maps as averaging the upsampled ones.

    >>> maps = secam_maps(model, x, image, skimage_slic(image))
    >>> maps.shape
    (5, 400, 600)

    Raises what :func:`cam_maps` and ``secam`` raise (``segments`` of another shape).
    """
    with torch.inference_mode():
        logits, f = model.forward_features(x)
        top = logits[0].topk(TOP_K).indices.tolist()
        maps = class_activation_map(f, model.fc_weight, top)
    return secam(maps, segments, from_grid=True)


def secam_all_classes(model: CamModel, x: torch.Tensor, segments: np.ndarray) -> np.ndarray:
    """The forward pass, then the mean over each superpixel of every class's CAM: ``(classes, superpixels)``.

    No full-resolution map is made: each class costs one row of a small matrix
    product (``superpixel_means`` of the maps on the feature grid).

    >>> secam_all_classes(model, x, skimage_slic(image)).shape[0]
    1000

    Raises what ``model.forward_features`` and ``superpixel_means`` raise.
    """
    with torch.inference_mode():
        _, f = model.forward_features(x)
        maps = class_activation_map(f, model.fc_weight, range(model.num_classes))
    return superpixel_means(maps, segments)


def skimage_slic(image: np.ndarray) -> np.ndarray:
    """scikit-image's SLIC with the book's ``n_segments`` and ``compactness``: labels ``H×W``.

    >>> skimage_slic(image).shape
    (400, 600)

    Raises what ``superpixels`` raises for a bad image.
    """
    return superpixels(image, n_segments=N_SEGMENTS, compactness=COMPACTNESS)


def fast_slic(image: np.ndarray) -> np.ndarray:
    """``fast_superpixels`` (OpenCV's SLIC, two rounds) with the book's ``n_segments`` and ``compactness``.

    >>> fast_slic(image).shape
    (400, 600)

    Raises what ``fast_superpixels`` raises for a bad image or without OpenCV's contrib modules.
    """
    return fast_superpixels(image, n_segments=N_SEGMENTS, compactness=COMPACTNESS)


def _uncached(segment: Segmenter, model: CamModel, x: torch.Tensor, image: np.ndarray) -> np.ndarray:
    """SeCAM end to end: new superpixels, and their layout computed anew (as for a new image)."""
    clear_superpixel_cache()
    return secam_maps(model, x, image, segment(image))


def pytorch_grad_cam(model: CamModel) -> GradCAM:
    """pytorch-grad-cam's GradCAM at the model's feature layer.

    It calls ``backward()`` and so needs weights that require gradients, which
    :class:`CamModel`'s do not: it gets a copy whose weights do (and spends
    time computing their gradients — part of what is measured). Release its
    hooks with ``.activations_and_grads.release()`` when done.

    >>> theirs = pytorch_grad_cam(model)
    >>> theirs.activations_and_grads.release()

    Raises ``ImportError`` without pytorch-grad-cam.
    """
    from pytorch_grad_cam import GradCAM

    trainable = copy.deepcopy(model)
    for p in trainable.parameters():
        p.requires_grad_(True)
    return GradCAM(model=trainable, target_layers=[trainable.feature_layer])


def time_cheap_methods(
    model: CamModel, x: torch.Tensor, image: np.ndarray, segments: np.ndarray, top1: int, repeats: int
) -> dict[str, list[float]]:
    """Forward (twice a round), CAM, SeCAM with ``segments``, Grad-CAM, HiResCAM, pytorch-grad-cam: interleaved.

    Returns the durations in seconds under the keys of the report
    (``forward_ms``, ``cam_ms``, ``secam_cached_ms``, ``secam_all_classes_ms``,
    ``gradcam_ms``, ``hirescam_ms``, ``pgc_gradcam_ms``); see :func:`time_interleaved`.

    >>> d = time_cheap_methods(model, x, image, skimage_slic(image), c, repeats=1)
    >>> len(d["forward_ms"]), len(d["cam_ms"]), len(d["pgc_gradcam_ms"])
    (2, 1, 1)

    Raises what the methods raise; pytorch-grad-cam's hooks are removed in any case.
    """
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    theirs, target = pytorch_grad_cam(model), [ClassifierOutputTarget(top1)]
    try:  # not `with`: pytorch-grad-cam's __exit__ swallows an IndexError
        return time_interleaved(
            {
                "forward_ms": lambda: forward(model, x),
                "cam_ms": lambda: cam_maps(model, x, image),
                "secam_cached_ms": lambda: secam_maps(model, x, image, segments),
                "secam_all_classes_ms": lambda: secam_all_classes(model, x, segments),
                "gradcam_ms": lambda: grad_cam(model, x, top1),
                "hirescam_ms": lambda: hires_cam(model, x, top1),
                "pgc_gradcam_ms": lambda: theirs(input_tensor=x, targets=target),
            },
            repeats,
            reference="forward_ms",
        )
    finally:
        theirs.activations_and_grads.release()  # remove its hooks


def time_superpixels(
    model: CamModel, x: torch.Tensor, image: np.ndarray, others: Mapping[str, Segmenter], repeats: int
) -> dict[str, list[float]]:
    """scikit-image's SLIC, the fast SLIC, SeCAM end to end with each, and the ``others`` (by name): interleaved.

    Returns durations in seconds under ``slic_ms``, ``secam_ms``,
    ``slic_fast_ms``, ``secam_fast_ms`` and the names of ``others``. SeCAM end
    to end computes new superpixels and their layout every time, as for a new image.

    >>> d = time_superpixels(model, x, image, {}, repeats=1)
    >>> sorted(d), len(d["slic_ms"])
    (['secam_fast_ms', 'secam_ms', 'slic_fast_ms', 'slic_ms'], 1)

    Raises what the segmenters and :func:`secam_maps` raise.
    """
    return time_interleaved(
        {
            "slic_ms": lambda: skimage_slic(image),
            "secam_ms": lambda: _uncached(skimage_slic, model, x, image),
            "slic_fast_ms": lambda: fast_slic(image),
            "secam_fast_ms": lambda: _uncached(fast_slic, model, x, image),
            **{name: functools.partial(segment, image) for name, segment in others.items()},
        },
        repeats,
    )


def time_lime(model: CamModel, image: np.ndarray, segments: np.ndarray, label: int, samples: int) -> float:
    """Seconds of one LIME explanation of ``label`` with ``samples`` perturbed images, after a tiny warm-up.

    One call of ``lime_map`` (LIME's ``explain_instance`` with the
    precomputed ``segments``, :data:`LIME_BATCH` images per network call,
    seed 0, images resized by ``model.preprocess``), timed once after an
    untimed run with at most :data:`LIME_WARMUP_SAMPLES` samples.

    >>> time_lime(model, image, skimage_slic(image), c, samples=5) > 0
    True

    Raises what ``lime_map`` raises.
    """

    def explain(num_samples: int) -> np.ndarray:
        return lime_map(model, image, label, segments, samples=num_samples, seed=0, batch_size=LIME_BATCH)

    explain(min(samples, LIME_WARMUP_SAMPLES))
    start = time.perf_counter()
    explain(samples)
    return time.perf_counter() - start


# --------------------------------------------------------------------------- #
# Other superpixel implementations
# --------------------------------------------------------------------------- #


def slic_implementations() -> dict[str, Segmenter | str]:
    """Name → function image → superpixels, or why the implementation cannot be used.

    ``"scikit-image"`` (``superpixels``, the reference),
    ``"opencv_ximgproc"`` (``superpixels(..., backend="opencv")``, OpenCV
    contrib's SLIC, ten rounds, which runs with OpenCV's global thread setting:
    see :func:`opencv_threads`) and ``"fast"`` (:func:`fast_slic`: OpenCV's,
    two rounds), with the book's ``n_segments`` and ``compactness``. (fast_slic, the other fast SLIC on PyPI, is not compared:
    its last release is from 2019 and its source package no longer builds
    with pip here.)

    >>> sorted(slic_implementations())
    ['fast', 'opencv_ximgproc', 'scikit-image']

    Raises nothing: a missing OpenCV is reported as the reason, a string.
    """
    found: dict[str, Segmenter | str] = {"scikit-image": skimage_slic}
    try:
        superpixels(np.zeros((8, 8, 3), np.uint8), n_segments=1, backend="opencv")
    except ImportError as err:
        found["opencv_ximgproc"] = found["fast"] = f"ImportError: {err}"
    else:
        found["opencv_ximgproc"] = functools.partial(
            superpixels, n_segments=N_SEGMENTS, compactness=COMPACTNESS, backend="opencv"
        )
        found["fast"] = fast_slic
    return found


@contextlib.contextmanager
def opencv_threads(threads: int) -> Iterator[None]:
    """Let OpenCV (if it is imported) use ``threads`` threads inside the block, its old setting after.

    >>> with opencv_threads(2):
    ...     pass

    Raises nothing of its own; OpenCV's setting is put back also when the block raises.
    """
    cv2 = sys.modules.get("cv2")
    if cv2 is None:
        yield
        return
    previous = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


def superpixel_quality(scenes: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[str, dict[str, float]]:
    """Mean boundary recall and undersegmentation error of scikit-image's SLIC and of the fast SLIC on ``scenes``.

    ``{"reference": {...}, "fast": {...}}``, each with ``boundary_recall`` (within
    :data:`BOUNDARY_TOLERANCE` pixels) and ``undersegmentation_error``; ``scenes``
    are pairs of image and true labels, e.g. :func:`quality_scenes`.

    >>> q = superpixel_quality(quality_scenes()[:2])
    >>> sorted(q), sorted(q["fast"])
    (['fast', 'reference'], ['boundary_recall', 'undersegmentation_error'])

    Raises ``ValueError`` for no scenes, and what the segmenters raise.
    """
    if not scenes:
        raise ValueError("no scenes to score the superpixels on")
    scores = {}
    for name, segment in (("reference", skimage_slic), ("fast", fast_slic)):
        scored = [(segment(scene), truth) for scene, truth in scenes]
        scores[name] = {
            "boundary_recall": float(np.mean([boundary_recall(s, t, BOUNDARY_TOLERANCE) for s, t in scored])),
            "undersegmentation_error": float(np.mean([undersegmentation_error(s, t) for s, t in scored])),
        }
    return scores


def quality_scenes() -> list[tuple[np.ndarray, np.ndarray]]:
    """The generated scenes (RGB image, true labels) on which superpixels are scored.

    :data:`SCENE_SEEDS` scenes of :data:`SCENE_SIZE` pixels square, each with
    :data:`SCENE_SHAPES` shapes, from ``shapes_scene``.

    >>> len(quality_scenes())
    10

    Raises nothing for the fixed settings.
    """
    return [shapes_scene(seed, size=SCENE_SIZE, shapes=SCENE_SHAPES) for seed in SCENE_SEEDS]


def compare_slic(
    implementations: Mapping[str, Segmenter | str],
    image: np.ndarray,
    cam_map: np.ndarray,
    median_ms: Mapping[str, float],
    scenes: Sequence[tuple[np.ndarray, np.ndarray]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Score SLIC implementations against each other and scikit-image's.

    ``implementations`` is what :func:`slic_implementations` returns;
    ``median_ms`` their measured times on ``image``. For each usable one:
    ``median_ms``, ``n_segments`` it produced on ``image``,
    ``secam_correlation`` — Pearson's r between ``secam(cam_map, its
    superpixels)`` and ``secam(cam_map, scikit-image's)`` — and the mean
    ``boundary_recall`` (within :data:`BOUNDARY_TOLERANCE` pixels) and
    ``undersegmentation_error`` over ``scenes`` (pairs of image and true
    labels, e.g. :func:`quality_scenes`; ``None`` when no scenes are given).
    The others get ``available: False`` and the reason.

    >>> times = {"scikit-image": 80.0, "opencv_ximgproc": 30.0, "fast": 10.0}      # as measured, in ms
    >>> rows = compare_slic(slic_implementations(), image[:100, :150], cam[:100, :150], times)
    >>> round(rows["scikit-image"]["secam_correlation"], 6), rows["scikit-image"]["boundary_recall"]
    (1.0, None)

    Raises ``KeyError`` when ``implementations`` has no ``"scikit-image"`` or
    ``median_ms`` lacks a usable implementation, and what the segmenters raise.
    """
    segmented = {name: segment(image) for name, segment in implementations.items() if callable(segment)}
    reference = secam(cam_map, segmented["scikit-image"]).ravel()
    report: dict[str, dict[str, Any]] = {}
    for name, segment in implementations.items():
        if not callable(segment):
            report[name] = {"available": False, "reason": segment}
            continue
        segments = segmented[name]
        row = {
            "available": True,
            "median_ms": float(median_ms[name]),
            "n_segments": int(np.unique(segments).size),
            "secam_correlation": float(np.corrcoef(secam(cam_map, segments).ravel(), reference)[0, 1]),
            "boundary_recall": None,
            "undersegmentation_error": None,
        }
        if scenes:
            scored = [(segment(scene), truth) for scene, truth in scenes]
            row["boundary_recall"] = float(np.mean([boundary_recall(s, t, BOUNDARY_TOLERANCE) for s, t in scored]))
            row["undersegmentation_error"] = float(np.mean([undersegmentation_error(s, t) for s, t in scored]))
        report[name] = row
    return report
