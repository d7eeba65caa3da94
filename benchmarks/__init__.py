"""Benchmarks of the book's methods; run ``python -m benchmarks.run`` from the repository root.

One module per part, along the way a measurement goes::

    timing      how a function is timed: warm-up, medians, interleaved rounds
    pipelines   what is timed: forward, CAM, SeCAM, Grad-CAM, HiResCAM,
                pytorch-grad-cam, SLIC, LIME; the SLIC implementations compared
    suite       run(): the rounds (FULL, QUICK), the targets, the report
    report      the report as a plain table or as Markdown
    run         the command line, python -m benchmarks.run

Chapters import from here (``from benchmarks import run, format_markdown``).
The command line module is not imported here, so that ``python -m
benchmarks.run`` runs it once, as ``__main__``.
"""

from .pipelines import (
    COMPACTNESS,
    N_SEGMENTS,
    TOP_K,
    compare_slic,
    fast_slic,
    quality_scenes,
    slic_implementations,
    superpixel_quality,
)
from .report import LABELS, TABLE_KEYS, format_markdown, format_table
from .suite import (
    FULL,
    FULL_RESULTS,
    QUALITY_TOLERANCE,
    QUICK,
    RESULT_KEYS,
    TARGETS,
    check_quality,
    check_targets,
    machine_info,
    run,
)
from .timing import WARMUP, median_ms, median_time, spread_ms, time_interleaved

__all__ = [
    "COMPACTNESS",
    "FULL",
    "FULL_RESULTS",
    "LABELS",
    "N_SEGMENTS",
    "QUALITY_TOLERANCE",
    "QUICK",
    "RESULT_KEYS",
    "TABLE_KEYS",
    "TARGETS",
    "TOP_K",
    "WARMUP",
    "check_quality",
    "check_targets",
    "compare_slic",
    "fast_slic",
    "format_markdown",
    "format_table",
    "machine_info",
    "median_ms",
    "median_time",
    "quality_scenes",
    "run",
    "slic_implementations",
    "spread_ms",
    "superpixel_quality",
    "time_interleaved",
]
