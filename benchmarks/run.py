r"""How long CAM, SeCAM and their baselines take on one image, all in one process.

Run it from the repository root::

    python -m benchmarks.run                      # full run: a few minutes on two cores, mostly LIME
    python -m benchmarks.run --quick              # fewer repeats and LIME samples: under a minute
    python -m benchmarks.run --quick --json       # the ten numbers, one JSON object on stdout
    python -m benchmarks.run --save report.json   # also write the whole report

or from Python — a notebook passes the model it has already loaded::

    from benchmarks import format_table, run
    report = run(quick=True, model=model)
    print(format_table(report))

This module is the command line only; the benchmark lives in the package's
other modules: :mod:`benchmarks.timing` (how a function is timed),
:mod:`benchmarks.pipelines` (what is timed), :mod:`benchmarks.suite`
(:func:`run`, the rounds, the targets) and :mod:`benchmarks.report` (the
table and the Markdown).

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
  true boundaries of ten generated scenes (``boundary_recall`` and
  ``undersegmentation_error`` of :mod:`tutorial_utils.superpixel_metrics`;
  not scored with ``--quick``), and the
  Pearson correlation of the top class's SeCAM map computed with their
  superpixels and with scikit-image's. They are timed in the rounds of SLIC.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tutorial_utils import CHOICES, MODEL_ENV, ImageLoadError, WeightsUnavailableError, load_image
from tutorial_utils.checks import positive_int_arg

from .report import format_table
from .suite import FULL, QUICK, run

__all__ = ["main"]


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
    parser.add_argument("--threads", type=positive_int_arg, default=2, metavar="N",
                        help="torch threads (default: 2)")
    parser.add_argument("--image", default="coffee", metavar="NAME",
                        help="a sample image name (e.g. coffee, chelsea) or an image file (default: coffee)")
    parser.add_argument("--model", type=_model_name, metavar="NAME",
                        help=f"auto, {', '.join(CHOICES)} (default: ${MODEL_ENV}, else auto)")
    parser.add_argument("--repeats", type=positive_int_arg, metavar="N",
                        help="rounds for the cheap methods (SLIC takes at most as many)")
    parser.add_argument("--lime-samples", type=positive_int_arg, metavar="N", help="LIME's number of samples")
    parser.add_argument("--save", type=Path, metavar="PATH", help="write the full report as JSON to PATH")
    return parser


def main(argv: list[str] | None = None) -> int:
    """The command line: parse, check the arguments, run, print (and save) the report; the exit code.

    ``argv`` are the arguments after ``python -m benchmarks.run`` (``None``:
    ``sys.argv[1:]``). Prints the table of :func:`format_table`, or with
    ``--json`` only ``report["results"]`` as one JSON object; ``--save PATH``
    also writes the whole report.

    From a terminal, ``python -m benchmarks.run --quick --json`` prints
    ``{"forward_ms": 21.3, "cam_ms": 21.6, …, "lime_samples": 50}`` after
    about a minute. A bad argument stops at once, before anything is loaded:

    >>> main(["--threads", "0"])
    Traceback (most recent call last):
        ...
    SystemExit: 2

    Returns 1 (with a one-line message) when the model's weights cannot be
    had; bad arguments exit with code 2 and argparse's one-line usage error
    (``SystemExit``).
    """
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
