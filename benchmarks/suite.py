"""The whole benchmark in one call: :func:`run` times every pipeline and returns the report.

How many rounds (:data:`FULL`, :data:`QUICK`), which numbers the report holds
(:data:`RESULT_KEYS`), which speed claims it checks (:data:`TARGETS`), and
where the book keeps its reference run (:data:`FULL_RESULTS`) are set here;
what is timed is in :mod:`benchmarks.pipelines`, how in
:mod:`benchmarks.timing`, and :mod:`benchmarks.report` prints the result.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import torch

from tutorial_utils import CamModel, load_image, load_model
from tutorial_utils.checks import positive_int

from .pipelines import (
    COMPACTNESS,
    LIME_BATCH,
    N_SEGMENTS,
    SCENE_SEEDS,
    cam_maps,
    compare_slic,
    forward,
    opencv_threads,
    quality_scenes,
    skimage_slic,
    slic_implementations,
    superpixel_quality,
    time_cheap_methods,
    time_lime,
    time_superpixels,
)
from .timing import WARMUP, median_ms, spread_ms

__all__ = [
    "FULL",
    "FULL_RESULTS",
    "QUALITY_TOLERANCE",
    "QUICK",
    "RESULT_KEYS",
    "TARGETS",
    "check_quality",
    "check_targets",
    "machine_info",
    "run",
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
    # Appended by the grid-path SeCAM and the fast superpixels (the ten above keep their order):
    "secam_all_classes_ms",
    "secam_fast_ms",
    "slic_fast_ms",
    "slic_fast_boundary_recall",
    "slic_fast_undersegmentation_error",
)
#: How far the fast superpixels' boundary recall and undersegmentation error may fall behind scikit-image's.
QUALITY_TOLERANCE = 0.02
#: Rounds for the cheap methods, rounds for SLIC / SeCAM with SLIC, LIME samples.
FULL = {"repeats": 25, "slic_repeats": 7, "lime_samples": 1000}
QUICK = {"repeats": 7, "slic_repeats": 3, "lime_samples": 50}

#: The book's speed claims: (timed key, the rule in words, its limit in ms given the results).
#: CAM's own cost is fixed by the image, not the network — writing five full-resolution
#: maps takes about 0.8 ms on two cores — so its margin over the forward pass is set for
#: the smallest network the book runs (EfficientNet-Lite0, about 11 ms a forward pass).
TARGETS: tuple[tuple[str, str, Callable[[Mapping[str, float]], float]], ...] = (
    ("cam_ms", "<= 1.15 x forward", lambda r: 1.15 * r["forward_ms"]),
    ("secam_cached_ms", "<= 1.05 x CAM", lambda r: 1.05 * r["cam_ms"]),
    ("secam_all_classes_ms", "<= 1.2 x forward", lambda r: 1.2 * r["forward_ms"]),
    ("secam_fast_ms", "<= 3 x forward", lambda r: 3.0 * r["forward_ms"]),
    ("gradcam_ms", "<= 1.2 x forward", lambda r: 1.2 * r["forward_ms"]),
)


def machine_info() -> dict[str, Any]:
    """CPU model, logical cores, OS, and the versions and thread count that matter for the timings.

    >>> sorted(machine_info())
    ['cpu', 'logical_cores', 'numpy', 'os', 'python', 'scikit_image', 'torch', 'torch_threads']

    Raises nothing: where ``/proc/cpuinfo`` cannot be read, ``platform`` names the CPU.
    """
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


def check_targets(results: Mapping[str, float]) -> dict[str, dict[str, Any]]:
    """Each of :data:`TARGETS` with its limit, the measured value and whether it is met.

    >>> r = {"forward_ms": 10.0, "cam_ms": 10.2, "secam_cached_ms": 10.4, "secam_all_classes_ms": 11.0,
    ...      "secam_fast_ms": 25.0, "gradcam_ms": 13.0}
    >>> check_targets(r)["cam_ms"]
    {'rule': '<= 1.15 x forward', 'limit_ms': 11.5, 'value_ms': 10.2, 'pass': True}

    Raises ``KeyError`` when ``results`` lacks a key a target needs.
    """
    checked = {}
    for key, rule, limit in TARGETS:
        bound = limit(results)
        checked[key] = {"rule": rule, "limit_ms": bound, "value_ms": results[key], "pass": bool(results[key] <= bound)}
    return checked


def check_quality(quality: Mapping[str, Mapping[str, float]]) -> dict[str, Any]:
    """Whether the fast superpixels are within :data:`QUALITY_TOLERANCE` of scikit-image's on both scores.

    ``quality`` is what ``superpixel_quality`` returns. Boundary recall may be
    at most the tolerance lower, undersegmentation error at most the tolerance higher.

    >>> check_quality({"reference": {"boundary_recall": 0.99, "undersegmentation_error": 0.02},
    ...                "fast": {"boundary_recall": 0.98, "undersegmentation_error": 0.01}})["pass"]
    True

    Raises ``KeyError`` for a ``quality`` without both rows and both scores.
    """
    reference, fast = quality["reference"], quality["fast"]
    recall_ok = fast["boundary_recall"] >= reference["boundary_recall"] - QUALITY_TOLERANCE
    error_ok = fast["undersegmentation_error"] <= reference["undersegmentation_error"] + QUALITY_TOLERANCE
    return {"reference": dict(reference), "fast": dict(fast), "tolerance": QUALITY_TOLERANCE,
            "pass": bool(recall_ok and error_ok)}


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

    The report holds ``results`` (the numbers of ``RESULT_KEYS``, in order),
    ``ratios`` (each time / ``forward_ms``), ``slic_share`` (``slic_ms /
    secam_ms``), ``targets``, ``superpixel_quality`` (the fast superpixels
    against scikit-image's on the generated scenes, measured in every mode),
    ``slic_alternatives``, ``spread_ms``, ``machine``, ``settings`` and ``date``.

    A quick run with the model a notebook has already loaded takes about a
    minute on two cores (so the example below only shows a refusal)::

        report = run(quick=True, model=model)
        list(report["results"]) == list(RESULT_KEYS)   # True

    >>> run(threads=0)
    Traceback (most recent call last):
        ...
    ValueError: threads must be a positive integer, got 0

    Raises ``ValueError`` for a non-positive ``threads``, ``repeats`` or
    ``lime_samples``, and what :func:`load_image` and :func:`load_model` raise.
    """
    for name, value in (("threads", threads), ("repeats", repeats), ("lime_samples", lime_samples)):
        if value is not None:
            positive_int(value, name)
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
        top1 = int(forward(net, x)[0].argmax())
        segments = skimage_slic(rgb)

        say(f"forward, CAM, SeCAM (cached superpixels), Grad-CAM, HiResCAM, pytorch-grad-cam: "
            f"{plan['repeats']} rounds")
        durations = time_cheap_methods(net, x, rgb, segments, top1, plan["repeats"])

        implementations = slic_implementations()
        # scikit-image's and the fast SLIC are timed as slic_ms and slic_fast_ms.
        others = {name: fn for name, fn in implementations.items()
                  if callable(fn) and name not in ("scikit-image", "fast")}
        say(f"SLIC and SeCAM with SLIC{''.join(', ' + name for name in others)}: {plan['slic_repeats']} rounds")
        with opencv_threads(threads):
            durations.update(time_superpixels(net, x, rgb, others, plan["slic_repeats"]))
            say("comparing superpixels" + (f" (and their quality on {len(SCENE_SEEDS)} scenes)" if scene_metrics else ""))
            seconds = {"scikit-image": durations["slic_ms"], "fast": durations["slic_fast_ms"],
                       **{name: durations[name] for name in others}}
            alternatives = compare_slic(
                implementations,
                rgb,
                cam_maps(net, x, rgb)[0],
                {name: median_ms(times) for name, times in seconds.items()},
                scenes=quality_scenes() if scene_metrics else None,
            )
            say(f"scoring the fast superpixels against scikit-image's on {len(SCENE_SEEDS)} scenes")
            quality = check_quality(superpixel_quality(quality_scenes()))

        say(f"LIME with {plan['lime_samples']} samples")
        durations["lime_ms"] = [time_lime(net, rgb, segments, top1, plan["lime_samples"])]
        machine = machine_info()
    finally:
        torch.set_num_threads(previous_threads)

    timed = [key for key in RESULT_KEYS if key.endswith("_ms")]
    results: dict[str, Any] = {}
    for key in RESULT_KEYS:  # in RESULT_KEYS' order
        if key.endswith("_ms"):
            results[key] = median_ms(durations[key])
        elif key == "lime_samples":
            results[key] = plan["lime_samples"]
        else:  # slic_fast_boundary_recall, slic_fast_undersegmentation_error
            results[key] = quality["fast"][key.removeprefix("slic_fast_")]
    return {
        "results": results,
        "ratios": {key: results[key] / results["forward_ms"] for key in timed},
        "slic_share": results["slic_ms"] / results["secam_ms"],
        "targets": check_targets(results),
        "superpixel_quality": quality,
        "slic_alternatives": alternatives,
        "spread_ms": {key: spread_ms(durations[key]) for key in timed},
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
