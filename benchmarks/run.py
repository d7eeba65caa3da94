r"""How long CAM, SeCAM and their baselines take on one image, all in one process.

Run it from the repository root::

    python -m benchmarks.run                      # full run: a few minutes on two cores, mostly LIME
    python -m benchmarks.run --quick              # fewer repeats and LIME samples: under a minute
    python -m benchmarks.run --quick --json       # the ten numbers, one JSON object on stdout
    python -m benchmarks.run --save report.json   # also write the whole report

or from Python — a notebook passes the model it has already loaded::

    from benchmarks.run import format_table, run
    report = run(quick=True, model=model)
    print(format_table(report))

What is timed
-------------
``x = model.preprocess(image)`` is computed once, before any timing.

* ``forward_ms``: ``model(x)`` under ``torch.inference_mode()``.
* ``cam_ms``: ``model.forward_features(x)``, the top-5 classes, their class
  activation maps upsampled to the full image (5 maps of H×W).
* ``secam_cached_ms``: the ``cam_ms`` pipeline, then ``secam`` of each of the
  5 maps with superpixels computed beforehand.
* ``slic_ms``: ``superpixels(image, n_segments=100, compactness=10)``.
* ``secam_ms``: SLIC, then the ``secam_cached_ms`` pipeline.
* ``gradcam_ms``, ``hirescam_ms``: ``grad_cam`` / ``hires_cam`` for the top-1
  class (they backpropagate from the class score to the layer only).
* ``pgc_gradcam_ms``: pytorch-grad-cam's ``GradCAM`` for the top-1 class.
* ``lime_ms``: LIME's ``explain_instance`` for the top-1 class with
  ``lime_samples`` perturbed images and the precomputed superpixels.

How to read the numbers
-----------------------
* Every ``*_ms`` value is the **median** wall-clock time of one call, in
  milliseconds, **after warm-up**: each function is first called twice
  without timing, so that one-off costs (allocating buffers, choosing kernels,
  filling caches, lazy imports) are not counted; of the timed calls the median
  is kept, which ignores the few calls slowed down by another process.
  ``spread_ms`` in the report gives the 25th and 75th percentiles: when they
  are far apart the machine was busy and the medians are rough.
* Absolute times depend on the machine; **ratios to the forward pass** hardly
  do. "CAM costs 1.02 forward passes" holds on a laptop and on a server, and it
  is the claim the book makes, so ``ratios`` divides every time by
  ``forward_ms`` and the targets are stated relative to it. For these ratios to
  be fair, the cheap methods (forward, CAM, SeCAM with cached superpixels,
  Grad-CAM, HiResCAM, pytorch-grad-cam) are timed **interleaved**: every round
  calls each of them once, in a shuffled order — the forward pass, the
  reference, twice — so a machine that speeds up or slows down during the run
  (heat, another job) shifts all of them alike.
* SLIC and SeCAM with SLIC take longer and are timed in fewer rounds
  (interleaved with each other). LIME runs once after a tiny warm-up: one run
  already calls the network ``lime_samples`` times.
* ``targets`` checks the book's speed claims: CAM needs no backward pass,
  SeCAM adds little once the superpixels exist, and our Grad-CAM
  backpropagates only to the layer. A missed target is reported, never raised —
  timings on a busy machine are noisy.
* ``slic_alternatives`` compares scikit-image's SLIC with OpenCV contrib's
  (``superpixels(..., backend="opencv")``): time, number of superpixels, how well they follow the
  true boundaries of ten generated scenes (:func:`boundary_recall`,
  :func:`undersegmentation_error`; not scored with ``--quick``), and the
  Pearson correlation of the top class's SeCAM map computed with their
  superpixels and with scikit-image's. They are timed in the rounds of SLIC.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import datetime
import functools
import gc
import json
import os
import platform
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import numpy as np
import torch

from tutorial_utils import (
    CHOICES,
    MODEL_ENV,
    CamModel,
    ImageLoadError,
    WeightsUnavailableError,
    class_activation_map,
    grad_cam,
    hires_cam,
    load_image,
    load_model,
    secam,
    shapes_scene,
    superpixels,
    upsample,
)

if TYPE_CHECKING:
    from pytorch_grad_cam import GradCAM

__all__ = [
    "FULL_RESULTS",
    "RESULT_KEYS",
    "TARGETS",
    "boundary_recall",
    "compare_slic",
    "format_markdown",
    "format_table",
    "machine_info",
    "main",
    "quality_scenes",
    "run",
    "slic_implementations",
    "time_interleaved",
    "undersegmentation_error",
]

#: Where the book keeps the report of its full run (``--save`` it there to update the results page).
FULL_RESULTS = Path(__file__).resolve().parent / "results" / "full.json"
#: The keys of ``report["results"]`` and of the ``--json`` output, in table order.
RESULT_KEYS = (
    "forward_ms",
    "cam_ms",
    "secam_cached_ms",
    "slic_ms",
    "secam_ms",
    "gradcam_ms",
    "hirescam_ms",
    "pgc_gradcam_ms",
    "lime_ms",
    "lime_samples",
)
#: Untimed calls of every function before its timed ones.
WARMUP = 2
#: SLIC's parameters, the book's defaults.
N_SEGMENTS = 100
COMPACTNESS = 10.0
#: How many classes the CAM and SeCAM pipelines map.
TOP_K = 5
#: Images per call of the network inside LIME.
LIME_BATCH = 50
#: Samples of LIME's untimed warm-up run (at most ``lime_samples``).
LIME_WARMUP_SAMPLES = 5
#: Rounds for the cheap methods, rounds for SLIC / SeCAM with SLIC, LIME samples.
FULL = {"repeats": 25, "slic_repeats": 7, "lime_samples": 1000}
QUICK = {"repeats": 7, "slic_repeats": 3, "lime_samples": 50}
#: The generated scenes on which superpixel implementations are scored.
SCENE_SEEDS = tuple(range(10))
SCENE_SIZE = 256
SCENE_SHAPES = (2, 5)
#: A true boundary pixel counts as found within this many pixels of a superpixel boundary.
BOUNDARY_TOLERANCE = 2.0

#: The book's speed claims: (timed key, the rule in words, its limit in ms given the results).
TARGETS: tuple[tuple[str, str, Callable[[Mapping[str, float]], float]], ...] = (
    ("cam_ms", "<= 1.05 x forward", lambda r: 1.05 * r["forward_ms"]),
    ("secam_cached_ms", "<= cam + 10 ms", lambda r: r["cam_ms"] + 10.0),
    ("gradcam_ms", "<= 1.2 x forward", lambda r: 1.2 * r["forward_ms"]),
)

Segmenter = Callable[[np.ndarray], np.ndarray]


# --------------------------------------------------------------------------- #
# Superpixel quality
# --------------------------------------------------------------------------- #


def _boundaries(labels: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour of another label (both sides of every edge are marked)."""
    edges = np.zeros(labels.shape, dtype=bool)
    across = labels[:, 1:] != labels[:, :-1]
    edges[:, 1:] |= across
    edges[:, :-1] |= across
    down = labels[1:] != labels[:-1]
    edges[1:] |= down
    edges[:-1] |= down
    return edges


def _label_pair(segments, ground_truth) -> tuple[np.ndarray, np.ndarray]:
    s, g = np.asarray(segments), np.asarray(ground_truth)
    if s.ndim != 2 or s.shape != g.shape:
        raise ValueError(f"segments and ground_truth must be 2-D of one shape, got {s.shape} and {g.shape}")
    if not (np.issubdtype(s.dtype, np.integer) and np.issubdtype(g.dtype, np.integer)):
        raise TypeError(f"labels must be integers, got dtypes {s.dtype} and {g.dtype}")
    return s, g


def boundary_recall(segments, ground_truth, tolerance: float = BOUNDARY_TOLERANCE) -> float:
    r"""Share of the true boundary pixels that lie within ``tolerance`` pixels of a superpixel boundary.

    A pixel is a boundary pixel when one of its 4-neighbours has another label.
    With :math:`B_G` the boundary pixels of ``ground_truth`` and :math:`d(p)` the
    Euclidean distance from :math:`p` to the nearest boundary pixel of
    ``segments``:

    .. math:: \mathrm{BR} = \frac{|\{p \in B_G : d(p) \le \text{tolerance}\}|}{|B_G|}

    1 means every true edge is followed by a superpixel edge; superpixels
    that only follow edges well are not penalised for extra edges (that is
    what :func:`undersegmentation_error` and the superpixel count are for).

    >>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    >>> boundary_recall(truth, truth), boundary_recall(np.zeros_like(truth), truth)
    (1.0, 0.0)

    Raises ``ValueError`` when the shapes differ or ``ground_truth`` has a
    single region (no boundary to recall), ``TypeError`` for non-integer labels.
    """
    from scipy import ndimage

    s, g = _label_pair(segments, ground_truth)
    truth = _boundaries(g)
    if not truth.any():
        raise ValueError("ground_truth has a single region: there is no boundary to recall")
    found = _boundaries(s)
    if not found.any():
        return 0.0
    distance = ndimage.distance_transform_edt(~found)  # to the nearest superpixel boundary pixel
    return float(np.mean(distance[truth] <= tolerance))


def undersegmentation_error(segments, ground_truth) -> float:
    r"""Undersegmentation error of Neubert & Protzel (2012): how much superpixels leak across true regions.

    For every true region :math:`G` and every superpixel :math:`S` that
    overlaps it, the smaller of the part inside and the part outside counts as
    leaked; the sum is divided by the number of pixels :math:`N`:

    .. math:: \mathrm{UE} = \frac{1}{N} \sum_G \sum_{S \cap G \ne \emptyset} \min(|S \cap G|, |S \setminus G|)

    0 means every superpixel lies inside one true region. Labels may be any
    integers; a region is all pixels of one ground-truth label.

    >>> truth = np.repeat([[0, 0, 1, 1]], 4, axis=0)
    >>> undersegmentation_error(truth, truth), undersegmentation_error(np.zeros_like(truth), truth)
    (0.0, 1.0)

    Raises ``ValueError`` when the shapes differ, ``TypeError`` for non-integer labels.
    """
    s, g = _label_pair(segments, ground_truth)
    _, s_index, s_size = np.unique(s.ravel(), return_inverse=True, return_counts=True)
    _, g_index = np.unique(g.ravel(), return_inverse=True)
    # |S ∩ G| for every (G, S) pair that overlaps, from one pass over the pixels.
    pairs, overlap = np.unique(g_index.astype(np.int64) * len(s_size) + s_index, return_counts=True)
    outside = s_size[pairs % len(s_size)] - overlap  # |S \ G|
    return float(np.minimum(overlap, outside).sum() / s.size)


# --------------------------------------------------------------------------- #
# Timing
# --------------------------------------------------------------------------- #


def time_interleaved(
    functions: Mapping[str, Callable[[], object]],
    repeats: int,
    *,
    warmup: int = WARMUP,
    reference: str | None = None,
) -> dict[str, list[float]]:
    """Time several functions in rounds; return each one's durations in seconds.

    Every function is first called ``warmup`` times untimed. Then each of
    ``repeats`` rounds calls every function once — ``reference`` twice — so
    that a change of the machine's speed during the run affects all alike.
    Each round has its own order (shuffled with a fixed seed), so that no
    function always runs right after the same other one, whose leftovers
    (caches, memory to free) it would pay for. ``reference`` gets
    ``2 × repeats`` durations.
    """
    if reference is not None and reference not in functions:
        raise ValueError(f"reference {reference!r} is not one of the functions {list(functions)}")
    calls = list(functions) + ([reference] if reference is not None else [])
    for _ in range(warmup):
        for fn in functions.values():
            fn()
    gc.collect()
    shuffler = random.Random(0)
    durations: dict[str, list[float]] = {name: [] for name in functions}
    for _ in range(repeats):
        shuffler.shuffle(calls)
        for name in calls:
            start = time.perf_counter()
            functions[name]()
            durations[name].append(time.perf_counter() - start)
    return durations


def _median_ms(seconds: list[float]) -> float:
    return float(np.median(seconds) * 1000.0)


def _spread_ms(seconds: list[float]) -> list[float]:
    """25th and 75th percentiles, in ms."""
    return [float(v * 1000.0) for v in np.percentile(seconds, [25, 75])]


# --------------------------------------------------------------------------- #
# The timed pipelines
# --------------------------------------------------------------------------- #


def _forward(model: CamModel, x: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(x)


def _cam_maps(model: CamModel, x: torch.Tensor, image: np.ndarray) -> np.ndarray:
    """CAM of the top-5 classes at the image's resolution: ``(5, H, W)``."""
    with torch.inference_mode():
        logits, f = model.forward_features(x)
        top = logits[0].topk(TOP_K).indices.tolist()
        maps = class_activation_map(f, model.fc_weight, top)
    return upsample(maps, image)


def _secam_maps(model: CamModel, x: torch.Tensor, image: np.ndarray, segments: np.ndarray) -> list[np.ndarray]:
    """SeCAM of the top-5 classes with the given superpixels."""
    return [secam(m, segments) for m in _cam_maps(model, x, image)]


def _skimage_slic(image: np.ndarray) -> np.ndarray:
    return superpixels(image, n_segments=N_SEGMENTS, compactness=COMPACTNESS)


def _time_cheap_methods(
    model: CamModel, x: torch.Tensor, image: np.ndarray, segments: np.ndarray, top1: int, repeats: int
) -> dict[str, list[float]]:
    """Forward (twice a round), CAM, SeCAM with ``segments``, Grad-CAM, HiResCAM, pytorch-grad-cam: interleaved."""
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    theirs, target = _pytorch_grad_cam(model), [ClassifierOutputTarget(top1)]
    try:  # not `with`: pytorch-grad-cam's __exit__ swallows an IndexError
        return time_interleaved(
            {
                "forward_ms": lambda: _forward(model, x),
                "cam_ms": lambda: _cam_maps(model, x, image),
                "secam_cached_ms": lambda: _secam_maps(model, x, image, segments),
                "gradcam_ms": lambda: grad_cam(model, x, top1),
                "hirescam_ms": lambda: hires_cam(model, x, top1),
                "pgc_gradcam_ms": lambda: theirs(input_tensor=x, targets=target),
            },
            repeats,
            reference="forward_ms",
        )
    finally:
        theirs.activations_and_grads.release()  # remove its hooks


def _time_superpixels(
    model: CamModel, x: torch.Tensor, image: np.ndarray, others: Mapping[str, Segmenter], repeats: int
) -> dict[str, list[float]]:
    """scikit-image's SLIC, SeCAM with it, and the ``others`` SLIC implementations (by name): interleaved."""
    return time_interleaved(
        {
            "slic_ms": lambda: _skimage_slic(image),
            "secam_ms": lambda: _secam_maps(model, x, image, _skimage_slic(image)),
            **{name: functools.partial(segment, image) for name, segment in others.items()},
        },
        repeats,
    )


def _pytorch_grad_cam(model: CamModel) -> GradCAM:
    """pytorch-grad-cam's GradCAM at the model's feature layer.

    It calls ``backward()`` and so needs weights that require gradients, which
    :class:`CamModel`'s do not: it gets a copy whose weights do (and spends
    time computing their gradients — part of what is measured).
    """
    from pytorch_grad_cam import GradCAM

    trainable = copy.deepcopy(model)
    for p in trainable.parameters():
        p.requires_grad_(True)
    return GradCAM(model=trainable, target_layers=[trainable.feature_layer])


def _time_lime(model: CamModel, image: np.ndarray, segments: np.ndarray, label: int, samples: int) -> float:
    """Seconds of one LIME explanation of ``label`` with ``samples`` perturbed images, after a tiny warm-up."""
    from lime import lime_image

    def classifier_fn(images: np.ndarray) -> np.ndarray:
        batch = torch.cat([model.preprocess(img) for img in images])
        with torch.inference_mode():
            return model(batch).softmax(dim=1).numpy()

    def explain(num_samples: int) -> object:
        explainer = lime_image.LimeImageExplainer(random_state=0)
        return explainer.explain_instance(
            image,
            classifier_fn,
            labels=(label,),
            top_labels=None,
            hide_color=0,
            num_samples=num_samples,
            batch_size=LIME_BATCH,
            segmentation_fn=lambda img: segments,
            random_seed=0,
        )

    original = lime_image.tqdm  # LIME draws a progress bar on every call: silence it, then put it back
    lime_image.tqdm = functools.partial(original, disable=True)
    try:
        explain(min(samples, LIME_WARMUP_SAMPLES))
        start = time.perf_counter()
        explain(samples)
        return time.perf_counter() - start
    finally:
        lime_image.tqdm = original


# --------------------------------------------------------------------------- #
# Other superpixel implementations
# --------------------------------------------------------------------------- #


def slic_implementations() -> dict[str, Segmenter | str]:
    """Name → function image → superpixels, or why the implementation cannot be used.

    ``"scikit-image"`` (:func:`superpixels`, the reference) and
    ``"opencv_ximgproc"`` (``superpixels(..., backend="opencv")``, OpenCV
    contrib's SLIC, which runs with OpenCV's global thread setting: see
    :func:`_opencv_threads`), with the book's ``n_segments`` and
    ``compactness``. (fast_slic, the other fast SLIC on PyPI, is not compared:
    its last release is from 2019 and its source package no longer builds
    with pip here.)
    """
    found: dict[str, Segmenter | str] = {"scikit-image": _skimage_slic}
    try:
        superpixels(np.zeros((8, 8, 3), np.uint8), n_segments=1, backend="opencv")
    except ImportError as err:
        found["opencv_ximgproc"] = f"ImportError: {err}"
    else:
        found["opencv_ximgproc"] = functools.partial(
            superpixels, n_segments=N_SEGMENTS, compactness=COMPACTNESS, backend="opencv"
        )
    return found


@contextlib.contextmanager
def _opencv_threads(threads: int) -> Iterator[None]:
    """Let OpenCV (if it is imported) use ``threads`` threads inside the block, its old setting after."""
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


def quality_scenes() -> list[tuple[np.ndarray, np.ndarray]]:
    """The generated scenes (RGB image, true labels) on which superpixels are scored."""
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
    ``boundary_recall`` and ``undersegmentation_error`` over ``scenes``
    (pairs of image and true labels, e.g. :func:`quality_scenes`; ``None`` when
    no scenes are given). The others get ``available: False`` and the reason.
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
            row["boundary_recall"] = float(np.mean([boundary_recall(s, t) for s, t in scored]))
            row["undersegmentation_error"] = float(np.mean([undersegmentation_error(s, t) for s, t in scored]))
        report[name] = row
    return report


# --------------------------------------------------------------------------- #
# The report
# --------------------------------------------------------------------------- #


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores, OS, and the versions and thread count that matter for the timings."""
    import skimage

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass  # not Linux: keep platform's answer
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
        "scikit_image": skimage.__version__,
    }


def _targets(results: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    """Each of :data:`TARGETS` with its limit, the measured value and whether it is met."""
    checked = {}
    for key, rule, limit in TARGETS:
        bound = limit(results)
        checked[key] = {"rule": rule, "limit_ms": bound, "value_ms": results[key], "pass": bool(results[key] <= bound)}
    return checked


def _positive(name: str, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _resolve_model(model: CamModel | str | None) -> CamModel:
    if isinstance(model, CamModel):
        return model
    return load_model(model, verbose=False)


def run(
    *,
    quick: bool = False,
    threads: int = 2,
    image: str = "coffee",
    model: CamModel | str | None = None,
    repeats: int | None = None,
    lime_samples: int | None = None,
    scene_metrics: bool | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Run the benchmark and return the full report (what ``--save`` writes).

    ``quick`` takes the rounds and LIME samples of :data:`QUICK` instead of
    :data:`FULL` and does not score the superpixels on generated scenes
    (``scene_metrics`` overrides that: it takes about a second);
    ``repeats`` and ``lime_samples`` override the counts (SLIC then takes at
    most ``repeats`` rounds too).
    ``image`` is a sample name or a file for :func:`load_image`; ``model`` a
    loaded :class:`CamModel`, a name for :func:`load_model`, or ``None``
    (``$CAM_BOOK_MODEL``, else automatic). ``torch`` uses ``threads`` threads
    during the run and its previous setting afterwards. ``progress`` prints one
    line per stage to stderr.

    The report holds ``results`` (the ten numbers of ``RESULT_KEYS``),
    ``ratios`` (each time / ``forward_ms``), ``slic_share`` (``slic_ms /
    secam_ms``), ``targets``, ``slic_alternatives``, ``spread_ms``,
    ``machine``, ``settings`` and ``date``.

    Raises ``ValueError`` for a non-positive ``threads``, ``repeats`` or
    ``lime_samples``, and what :func:`load_image` and :func:`load_model` raise.
    """
    for name, value in (("threads", threads), ("repeats", repeats), ("lime_samples", lime_samples)):
        _positive(name, value)
    plan = dict(QUICK if quick else FULL)
    if repeats is not None:
        plan["repeats"], plan["slic_repeats"] = repeats, min(repeats, plan["slic_repeats"])
    if lime_samples is not None:
        plan["lime_samples"] = lime_samples

    if scene_metrics is None:
        scene_metrics = not quick
    started = time.perf_counter()

    def say(message: str) -> None:
        if progress:
            print(f"[benchmark {time.perf_counter() - started:5.1f} s] {message}", file=sys.stderr, flush=True)

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        say(f"loading image {image!r} and the model")
        rgb = load_image(image)
        net = _resolve_model(model)
        x = net.preprocess(rgb)
        top1 = int(_forward(net, x)[0].argmax())
        segments = _skimage_slic(rgb)

        say(f"forward, CAM, SeCAM (cached superpixels), Grad-CAM, HiResCAM, pytorch-grad-cam: "
            f"{plan['repeats']} rounds")
        durations = _time_cheap_methods(net, x, rgb, segments, top1, plan["repeats"])

        implementations = slic_implementations()
        others = {name: fn for name, fn in implementations.items() if callable(fn) and name != "scikit-image"}
        say(f"SLIC and SeCAM with SLIC{''.join(', ' + name for name in others)}: {plan['slic_repeats']} rounds")
        with _opencv_threads(threads):
            durations.update(_time_superpixels(net, x, rgb, others, plan["slic_repeats"]))
            say("comparing superpixels" + (f" (and their quality on {len(SCENE_SEEDS)} scenes)" if scene_metrics else ""))
            seconds = {"scikit-image": durations["slic_ms"], **{name: durations[name] for name in others}}
            alternatives = compare_slic(
                implementations,
                rgb,
                _cam_maps(net, x, rgb)[0],
                {name: _median_ms(times) for name, times in seconds.items()},
                scenes=quality_scenes() if scene_metrics else None,
            )

        say(f"LIME with {plan['lime_samples']} samples")
        durations["lime_ms"] = [_time_lime(net, rgb, segments, top1, plan["lime_samples"])]
        machine = machine_info()
    finally:
        torch.set_num_threads(previous_threads)

    timed = [key for key in RESULT_KEYS if key.endswith("_ms")]
    results: dict[str, Any] = {key: _median_ms(durations[key]) for key in timed}
    results["lime_samples"] = plan["lime_samples"]  # the last key
    return {
        "results": results,
        "ratios": {key: results[key] / results["forward_ms"] for key in timed},
        "slic_share": results["slic_ms"] / results["secam_ms"],
        "targets": _targets(results),
        "slic_alternatives": alternatives,
        "spread_ms": {key: _spread_ms(durations[key]) for key in timed},
        "machine": machine,
        "settings": {
            "model": net.name,
            "model_display_name": net.display_name,
            "model_status": net.status,
            "image": str(image),
            "image_shape": list(rgb.shape),
            "top1": top1,
            "top1_label": net.categories[top1],
            "repeats": plan["repeats"],
            "slic_repeats": plan["slic_repeats"],
            "warmup": WARMUP,
            "n_segments": N_SEGMENTS,
            "compactness": COMPACTNESS,
            "lime_samples": plan["lime_samples"],
            "lime_batch_size": LIME_BATCH,
            "threads": threads,
            "quick": bool(quick),
            "scene_metrics": bool(scene_metrics),
        },
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


_LABELS = {
    "forward_ms": "forward pass",
    "cam_ms": f"CAM, top {TOP_K}, upsampled",
    "secam_cached_ms": "SeCAM, superpixels cached",
    "slic_ms": "SLIC (scikit-image)",
    "secam_ms": "SeCAM with SLIC",
    "gradcam_ms": "Grad-CAM (ours)",
    "hirescam_ms": "HiResCAM (ours)",
    "pgc_gradcam_ms": "GradCAM (pytorch-grad-cam)",
    "lime_ms": "LIME",
}


def _method_rows(report: Mapping[str, Any]) -> Iterator[tuple[str, str, float, str, float, str, str]]:
    """Per timed key: key, label, median ms, p25–p75 text, ratio to the forward pass, target rule, verdict."""
    results, ratios, targets = report["results"], report["ratios"], report["targets"]
    for key in RESULT_KEYS:
        if key == "lime_samples":
            continue
        label = _LABELS[key] + (f" ({results['lime_samples']} samples)" if key == "lime_ms" else "")
        rule, verdict = "", ""
        if key in targets:
            rule, verdict = targets[key]["rule"], "pass" if targets[key]["pass"] else "FAIL"
        low, high = report["spread_ms"][key]
        spread = f"{low:.1f}-{high:.1f}" if high > low else ""  # one timed call (LIME) has no spread
        yield key, label, results[key], spread, ratios[key], rule, verdict


def _slic_rows(report: Mapping[str, Any]) -> Iterator[tuple[str, str | None]]:
    """Per superpixel implementation: name, and its cells as text (``None`` when it is not available)."""
    for name, row in report["slic_alternatives"].items():
        if not row["available"]:
            yield name, None
            continue
        yield name, (f"{row['median_ms']:.1f}", f"{row['n_segments']:d}", _score(row["boundary_recall"]),
                     _score(row["undersegmentation_error"]), f"{row['secam_correlation']:.3f}")


def _context_lines(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, text) for the SLIC note, machine, model, settings and date."""
    settings, machine = report["settings"], report["machine"]
    scenes = (
        f"means over {len(SCENE_SEEDS)} generated {SCENE_SIZE}x{SCENE_SIZE} scenes"
        if settings["scene_metrics"] else "not scored in quick mode"
    )
    height, width = settings["image_shape"][:2]
    return [
        ("superpixels", f"boundary recall within {BOUNDARY_TOLERANCE:g} px and undersegmentation error: {scenes}; "
                        "SeCAM r: top-1 SeCAM map against the one with scikit-image's superpixels"),
        ("machine", f"{machine['cpu']}, {machine['logical_cores']} logical cores, {machine['os']}, "
                    f"Python {machine['python']}, torch {machine['torch']} ({machine['torch_threads']} threads)"),
        ("model", f"{settings['model_display_name']} — {settings['model_status']}"),
        ("settings", f"image {settings['image']!r} {height}x{width}, top-1 {settings['top1_label']!r}; "
                     f"{settings['repeats']} rounds (SLIC {settings['slic_repeats']}) after {settings['warmup']} "
                     f"warm-up calls; SLIC n_segments={settings['n_segments']}, "
                     f"compactness={settings['compactness']:g}; LIME {settings['lime_samples']} samples; "
                     f"{'quick' if settings['quick'] else 'full'} mode"),
        ("date", report["date"]),
    ]


_SLIC_HEADER = ("median ms", "segments", "boundary recall", "underseg. error", "SeCAM r")


def format_table(report: Mapping[str, Any]) -> str:
    """The report as plain text: one row per method, the SLIC comparison, then machine, settings and date.

    Each method's row: median ms, the 25th–75th percentiles (a wide range means
    a busy machine), the ratio to the forward pass, and its target if it has one.
    """
    lines = [f"{'method':<34}{'median ms':>11}{'p25-p75 ms':>17}{'x forward':>11}   {'target':<20}result"]
    for _, label, median, spread, ratio, rule, verdict in _method_rows(report):
        lines.append(f"{label:<34}{median:>11.1f}{spread:>17}{ratio:>11.3f}   {rule:<20}{verdict}".rstrip())
    lines.append(f"SLIC is {report['slic_share']:.0%} of SeCAM's time when the superpixels are not cached.")
    lines += ["", f"{'superpixels':<34}" + "".join(f"{h:>17}" for h in _SLIC_HEADER)]
    for name, cells in _slic_rows(report):
        reason = report["slic_alternatives"][name].get("reason")
        lines.append(f"{name:<34}" + ("".join(f"{c:>17}" for c in cells) if cells else f"not available ({reason})"))
    context = _context_lines(report)
    lines.append(f"({context[0][1]})")
    lines += [""] + [f"{what + ':':<10}{text}" for what, text in context[1:]]
    return "\n".join(lines)


def format_markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown: the methods table, the superpixel table, then machine, model, settings and date."""
    lines = ["| method | median ms | p25–p75 ms | × forward | target | result |", "|---|---:|---:|---:|---|---|"]
    for _, label, median, spread, ratio, rule, verdict in _method_rows(report):
        lines.append(f"| {label} | {median:.1f} | {spread.replace('-', '–')} | {ratio:.2f} | {rule} | {verdict} |")
    lines += ["", "| superpixels | " + " | ".join(_SLIC_HEADER) + " |", "|---|" + "---:|" * len(_SLIC_HEADER)]
    for name, cells in _slic_rows(report):
        reason = report["slic_alternatives"][name].get("reason")
        lines.append(f"| {name} | " + (" | ".join(cells) if cells else f"not available ({reason})") + " |")
    lines.append("")
    lines += [f"- **{what}**: {text}" for what, text in _context_lines(report)]
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Command line
# --------------------------------------------------------------------------- #


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return value


def _model_name(text: str) -> str:
    choice = text.strip().lower().replace("-", "_")
    if choice not in ("auto",) + CHOICES:
        raise argparse.ArgumentTypeError(f"unknown model {text!r}; choose one of: auto, {', '.join(CHOICES)}")
    return choice


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time CAM, SeCAM, Grad-CAM, HiResCAM, pytorch-grad-cam and LIME on one image "
        "(medians after warm-up; the cheap methods interleaved with the forward pass).",
    )
    parser.add_argument("--quick", action="store_true",
                        help="{repeats} rounds, {slic_repeats} for SLIC, {lime_samples} LIME samples ".format(**QUICK)
                        + "(default: {repeats}, {slic_repeats}, {lime_samples}), ".format(**FULL)
                        + "superpixels not scored on generated scenes")
    parser.add_argument("--json", action="store_true",
                        help="print only the ten results, as one JSON object on stdout")
    parser.add_argument("--threads", type=_positive_int, default=2, metavar="N",
                        help="torch threads (default: 2)")
    parser.add_argument("--image", default="coffee", metavar="NAME",
                        help="a sample image name (e.g. coffee, chelsea) or an image file (default: coffee)")
    parser.add_argument("--model", type=_model_name, metavar="NAME",
                        help=f"auto, {', '.join(CHOICES)} (default: ${MODEL_ENV}, else auto)")
    parser.add_argument("--repeats", type=_positive_int, metavar="N",
                        help="rounds for the cheap methods (SLIC takes at most as many)")
    parser.add_argument("--lime-samples", type=_positive_int, metavar="N", help="LIME's number of samples")
    parser.add_argument("--save", type=Path, metavar="PATH", help="write the full report as JSON to PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line: parse, check the arguments, run, print (and save) the report."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        load_image(args.image)
    except (OSError, ImageLoadError, TypeError) as err:
        parser.error(f"argument --image: {err}")
    if args.save is not None and not args.save.parent.is_dir():
        parser.error(f"argument --save: the folder {str(args.save.parent)!r} does not exist")
    try:
        report = run(
            quick=args.quick,
            threads=args.threads,
            image=args.image,
            model=args.model,
            repeats=args.repeats,
            lime_samples=args.lime_samples,
            progress=not args.json,
        )
    except WeightsUnavailableError as err:
        print(f"{parser.prog}: error: {err}", file=sys.stderr)
        return 1
    if args.save is not None:
        args.save.write_text(json.dumps(report, indent=2) + "\n")
        print(f"report written to {args.save}", file=sys.stderr)
    print(json.dumps(report["results"]) if args.json else format_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
