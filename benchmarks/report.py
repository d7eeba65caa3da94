"""The benchmark's report as text: a plain table for the terminal, Markdown for the book.

:func:`format_table` and :func:`format_markdown` print what :func:`run`
returns; both are made of the same rows — :func:`method_rows` (one per timed
method), :func:`slic_rows` (one per SLIC implementation) and
:func:`context_lines` (machine, model, settings, date) — so that the terminal
and the book always show the same numbers.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from tutorial_utils import FAST_SLIC

from .pipelines import BOUNDARY_TOLERANCE, SCENE_SEEDS, SCENE_SIZE, TOP_K
from .suite import RESULT_KEYS

__all__ = [
    "LABELS",
    "SLIC_HEADER",
    "TABLE_KEYS",
    "context_lines",
    "format_markdown",
    "format_table",
    "method_rows",
    "quality_line",
    "slic_rows",
]

#: What each timed key is called in the tables.
LABELS = {
    "forward_ms": "forward pass",
    "cam_ms": f"CAM, top {TOP_K}, upsampled",
    "secam_cached_ms": "SeCAM, superpixels cached",
    "secam_all_classes_ms": "SeCAM means, every class, cached",
    "slic_ms": "SLIC (scikit-image)",
    "secam_ms": "SeCAM with SLIC",
    "slic_fast_ms": f"SLIC, fast (OpenCV, {FAST_SLIC['iterations']} rounds)",
    "secam_fast_ms": "SeCAM with fast SLIC",
    "gradcam_ms": "Grad-CAM (ours)",
    "hirescam_ms": "HiResCAM (ours)",
    "pgc_gradcam_ms": "GradCAM (pytorch-grad-cam)",
    "lime_ms": "LIME",
}
#: The timed keys in the order of the tables: the SeCAM rows beside what they are built from.
TABLE_KEYS = (
    "forward_ms",
    "cam_ms",
    "secam_cached_ms",
    "secam_all_classes_ms",
    "slic_ms",
    "secam_ms",
    "slic_fast_ms",
    "secam_fast_ms",
    "gradcam_ms",
    "hirescam_ms",
    "pgc_gradcam_ms",
    "lime_ms",
)
#: The columns of the superpixel table.
SLIC_HEADER = ("median ms", "segments", "boundary recall", "underseg. error", "SeCAM r")


def _score(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def method_rows(report: Mapping[str, Any]) -> Iterator[tuple[str, str, float, str, float, str, str]]:
    """Per timed key: key, label, median ms, p25–p75 text, ratio to the forward pass, target rule, verdict.

    The rule and verdict (``"pass"`` or ``"FAIL"``) are empty for a method
    without a target, the spread for LIME (one timed call).

    >>> import json
    >>> from benchmarks import FULL_RESULTS
    >>> report = json.loads(FULL_RESULTS.read_text())     # the book's reference run
    >>> next(method_rows(report))[:2]
    ('forward_ms', 'forward pass')

    Raises ``KeyError`` for a report without the keys :func:`run` writes.
    """
    results, ratios, targets = report["results"], report["ratios"], report["targets"]
    for key in TABLE_KEYS:
        label = LABELS[key] + (f" ({results['lime_samples']} samples)" if key == "lime_ms" else "")
        rule, verdict = "", ""
        if key in targets:
            rule, verdict = targets[key]["rule"], "pass" if targets[key]["pass"] else "FAIL"
        low, high = report["spread_ms"][key]
        spread = f"{low:.1f}-{high:.1f}" if high > low else ""  # one timed call (LIME) has no spread
        yield key, label, results[key], spread, ratios[key], rule, verdict


def quality_line(report: Mapping[str, Any]) -> str:
    """One sentence: the fast superpixels' scores on the generated scenes against scikit-image's, and the verdict.

    >>> import json
    >>> from benchmarks import FULL_RESULTS
    >>> quality_line(json.loads(FULL_RESULTS.read_text())).startswith("Fast superpixels")
    True

    Raises ``KeyError`` for a report without ``superpixel_quality``.
    """
    q = report["superpixel_quality"]
    fast, reference = q["fast"], q["reference"]
    return (f"Fast superpixels on {len(SCENE_SEEDS)} generated scenes: boundary recall "
            f"{fast['boundary_recall']:.3f} (scikit-image {reference['boundary_recall']:.3f}), "
            f"undersegmentation error {fast['undersegmentation_error']:.3f} "
            f"(scikit-image {reference['undersegmentation_error']:.3f}); "
            f"within {q['tolerance']:g} of scikit-image's: {'pass' if q['pass'] else 'FAIL'}")


def slic_rows(report: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...] | None]]:
    """Per superpixel implementation: name, and its cells (:data:`SLIC_HEADER`) as text, ``None`` if unavailable.

    >>> import json
    >>> from benchmarks import FULL_RESULTS
    >>> report = json.loads(FULL_RESULTS.read_text())     # the book's reference run
    >>> [name for name, _ in slic_rows(report)]
    ['scikit-image', 'opencv_ximgproc', 'fast']

    Raises ``KeyError`` for a report without ``slic_alternatives``.
    """
    for name, row in report["slic_alternatives"].items():
        if not row["available"]:
            yield name, None
            continue
        yield name, (f"{row['median_ms']:.1f}", f"{row['n_segments']:d}", _score(row["boundary_recall"]),
                     _score(row["undersegmentation_error"]), f"{row['secam_correlation']:.3f}")


def context_lines(report: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(what, text) for the SLIC note, machine, model, settings and date.

    >>> import json
    >>> from benchmarks import FULL_RESULTS
    >>> report = json.loads(FULL_RESULTS.read_text())     # the book's reference run
    >>> [what for what, _ in context_lines(report)]
    ['superpixels', 'machine', 'model', 'settings', 'date']

    Raises ``KeyError`` for a report without ``settings``, ``machine`` or ``date``.
    """
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


def format_table(report: Mapping[str, Any]) -> str:
    """The report as plain text: one row per method, the SLIC comparison, then machine, settings and date.

    Each method's row: median ms, the 25th–75th percentiles (a wide range means
    a busy machine), the ratio to the forward pass, and its target if it has one.

    >>> import json
    >>> from benchmarks import FULL_RESULTS
    >>> report = json.loads(FULL_RESULTS.read_text())     # the book's reference run
    >>> print(format_table(report).splitlines()[0])
    method                              median ms       p25-p75 ms  x forward   target              result

    Raises ``KeyError`` for a report without the keys :func:`run` writes.
    """
    lines = [f"{'method':<34}{'median ms':>11}{'p25-p75 ms':>17}{'x forward':>11}   {'target':<20}result"]
    for _, label, median, spread, ratio, rule, verdict in method_rows(report):
        lines.append(f"{label:<34}{median:>11.1f}{spread:>17}{ratio:>11.3f}   {rule:<20}{verdict}".rstrip())
    lines.append(f"SLIC is {report['slic_share']:.0%} of SeCAM's time when the superpixels are not cached.")
    lines.append(quality_line(report) + ".")
    lines += ["", f"{'superpixels':<34}" + "".join(f"{h:>17}" for h in SLIC_HEADER)]
    for name, cells in slic_rows(report):
        reason = report["slic_alternatives"][name].get("reason")
        lines.append(f"{name:<34}" + ("".join(f"{c:>17}" for c in cells) if cells else f"not available ({reason})"))
    context = context_lines(report)
    lines.append(f"({context[0][1]})")
    lines += [""] + [f"{what + ':':<10}{text}" for what, text in context[1:]]
    return "\n".join(lines)


def format_markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown: the methods table, the superpixel table, then machine, model, settings and date.

    >>> import json
    >>> from benchmarks import FULL_RESULTS
    >>> report = json.loads(FULL_RESULTS.read_text())     # the book's reference run
    >>> print(format_markdown(report).splitlines()[0])
    | method | median ms | p25–p75 ms | × forward | target | result |

    Raises ``KeyError`` for a report without the keys :func:`run` writes.
    """
    lines = ["| method | median ms | p25–p75 ms | × forward | target | result |", "|---|---:|---:|---:|---|---|"]
    for _, label, median, spread, ratio, rule, verdict in method_rows(report):
        lines.append(f"| {label} | {median:.1f} | {spread.replace('-', '–')} | {ratio:.2f} | {rule} | {verdict} |")
    lines += ["", quality_line(report) + "."]
    lines += ["", "| superpixels | " + " | ".join(SLIC_HEADER) + " |", "|---|" + "---:|" * len(SLIC_HEADER)]
    for name, cells in slic_rows(report):
        reason = report["slic_alternatives"][name].get("reason")
        lines.append(f"| {name} | " + (" | ".join(cells) if cells else f"not available ({reason})") + " |")
    lines.append("")
    lines += [f"- **{what}**: {text}" for what, text in context_lines(report)]
    return "\n".join(lines)
