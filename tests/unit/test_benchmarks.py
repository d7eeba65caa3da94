"""The benchmark (``python -m benchmarks.run``): its report, table, command line and superpixel metrics."""

import datetime
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from book_layout import ROOT
from PIL import Image

from benchmarks.run import (
    _LABELS,
    RESULT_KEYS,
    boundary_recall,
    compare_slic,
    format_markdown,
    format_table,
    main,
    run,
    slic_implementations,
    time_interleaved,
    undersegmentation_error,
)
from tutorial_utils import load_image, shapes_scene

TIMED = [key for key in RESULT_KEYS if key.endswith("_ms")]
LIME_SAMPLES = 10


@pytest.fixture(scope="module")
def small_image(tmp_path_factory):
    """A 100×150 copy of the coffee image: SLIC and LIME's preprocessing take a few ms on it."""
    path = tmp_path_factory.mktemp("benchmark") / "small_coffee.png"
    Image.fromarray(load_image("coffee")).resize((150, 100)).save(path)
    return path


@pytest.fixture(scope="module", autouse=True)
def json_command(small_image):
    """``python -m benchmarks.run --quick --json …``, started first so that it overlaps the other tests."""
    env = {**os.environ, "CAM_BOOK_MODEL": "efficientnet_lite0"}  # no network probe for ResNet50
    args = ["--quick", "--json", "--repeats", "2", "--lime-samples", str(LIME_SAMPLES), "--image", str(small_image)]
    process = subprocess.Popen([sys.executable, "-m", "benchmarks.run", *args], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    yield process
    if process.poll() is None:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def threads_before():
    return torch.get_num_threads()


@pytest.fixture(scope="module")
def report(lite, threads_before, small_image):
    return run(quick=True, repeats=1, lime_samples=LIME_SAMPLES, image=str(small_image), model=lite, threads=1)


# ------------------------------------------------------------------ the report
def test_results_are_the_ten_positive_numbers(report):
    results = report["results"]
    assert list(results) == list(RESULT_KEYS)
    for key in TIMED:
        assert isinstance(results[key], float) and math.isfinite(results[key]) and results[key] > 0, key
    assert type(results["lime_samples"]) is int and results["lime_samples"] == LIME_SAMPLES


def test_ratios_and_slic_share_follow_from_the_results(report):
    results, ratios = report["results"], report["ratios"]
    assert set(ratios) == set(TIMED)
    for key in TIMED:
        assert ratios[key] == pytest.approx(results[key] / results["forward_ms"])
    assert ratios["forward_ms"] == pytest.approx(1.0)
    assert report["slic_share"] == pytest.approx(results["slic_ms"] / results["secam_ms"])


def test_targets_are_booleans_computed_from_the_results(report):
    r, targets = report["results"], report["targets"]
    expected = {
        "cam_ms": r["cam_ms"] <= 1.05 * r["forward_ms"],
        "secam_cached_ms": r["secam_cached_ms"] <= r["cam_ms"] + 10,
        "gradcam_ms": r["gradcam_ms"] <= 1.2 * r["forward_ms"],
    }
    assert set(targets) == set(expected)
    for key, passed in expected.items():
        assert targets[key]["pass"] is passed, key
        assert targets[key]["value_ms"] == r[key]


def test_settings_machine_and_date(report, lite, small_image, threads_before):
    settings, machine = report["settings"], report["machine"]
    assert settings["model"] == lite.name and settings["image"] == str(small_image)
    assert settings["image_shape"] == [100, 150, 3]
    assert (settings["repeats"], settings["lime_samples"], settings["quick"]) == (1, LIME_SAMPLES, True)
    assert machine["torch_threads"] == 1 and machine["logical_cores"] >= 1 and machine["cpu"]
    assert torch.get_num_threads() == threads_before  # the run puts torch's setting back
    assert datetime.datetime.fromisoformat(report["date"]).tzinfo is not None
    json.dumps(report, allow_nan=False)  # what --save writes


def test_slic_alternatives_in_quick_mode(report):
    alternatives = report["slic_alternatives"]
    assert set(alternatives) == {"scikit-image", "opencv_ximgproc"}
    reference = alternatives["scikit-image"]
    assert reference["available"] is True and reference["median_ms"] == report["results"]["slic_ms"]
    assert reference["secam_correlation"] == pytest.approx(1.0)
    assert reference["boundary_recall"] is None  # quick mode does not score scenes
    for name, row in alternatives.items():
        assert row["available"] or "Error" in row["reason"], name


def test_compare_slic_scores_scenes():
    image = load_image("coffee")[:120, :160]
    implementations = slic_implementations()
    scenes = [shapes_scene(seed, size=64, shapes=(2, 3)) for seed in (0, 1)]
    cam_map = np.random.default_rng(0).normal(size=image.shape[:2])
    rows = compare_slic(implementations, image, cam_map, dict.fromkeys(implementations, 1.0), scenes=scenes)
    assert rows["scikit-image"]["secam_correlation"] == pytest.approx(1.0)
    for name, row in rows.items():
        if row["available"]:
            assert 0 <= row["boundary_recall"] <= 1 and 0 <= row["undersegmentation_error"] <= 1, name
            assert row["n_segments"] > 1, name


def test_table_names_every_method(report):
    table = format_table(report)
    for key in TIMED:
        assert _LABELS[key] in table, key
    verdicts = [line.rsplit(maxsplit=1)[-1] for line in table.splitlines() if line.endswith((" pass", " FAIL"))]
    assert len(verdicts) == len(report["targets"])
    for line in ("machine:", "model:", "settings:", "date:"):
        assert line in table
    assert report["date"] in table and report["machine"]["cpu"] in table


def test_markdown_has_a_row_per_method_and_the_context(report):
    text = format_markdown(report)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(TIMED) + 1 + len(report["slic_alternatives"])  # two headers
    for key in TIMED:
        row = next(r for r in rows if r.startswith(f"| {_LABELS[key]}"))
        assert f"{report['results'][key]:.1f}" in row and f"{report['ratios'][key]:.2f}" in row, key
    for what in ("machine", "model", "settings", "date"):
        assert f"- **{what}**:" in text


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="threads"):
        run(threads=0)
    with pytest.raises(ValueError, match="lime_samples"):
        run(lime_samples=0)


# --------------------------------------------------------------- command line
def test_json_mode_prints_exactly_one_object(json_command):
    stdout, stderr = json_command.communicate(timeout=180)
    assert json_command.returncode == 0, stderr
    results = json.loads(stdout)  # fails on anything before or after the object
    assert isinstance(results, dict) and list(results) == list(RESULT_KEYS)
    assert results["lime_samples"] == LIME_SAMPLES


@pytest.mark.parametrize(
    "args,named",
    [
        (["--threads", "0"], "argument --threads"),
        (["--image", "nosuch"], "argument --image"),
        (["--repeats", "0"], "argument --repeats"),
        (["--lime-samples", "-3"], "argument --lime-samples"),
        (["--threads", "two"], "argument --threads"),
        (["--model", "vgg16"], "argument --model"),
    ],
)
def test_bad_arguments_exit_with_code_2_and_one_line(args, named, capsys):
    # In-process: a subprocess would spend seconds importing torch before argparse runs.
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    assert exit_info.value.code == 2
    out, err = capsys.readouterr()
    assert out == "" and "Traceback" not in err
    message = err.strip().splitlines()[-1]  # after argparse's usage line
    assert message.startswith("python -m benchmarks.run: error: " + named)


# ------------------------------------------------------------------- timing
def test_time_interleaved_counts_calls():
    calls = {"a": 0, "b": 0}

    def count(name):
        calls[name] += 1

    durations = time_interleaved({"a": lambda: count("a"), "b": lambda: count("b")}, 3, warmup=2, reference="a")
    assert len(durations["a"]) == 6 and len(durations["b"]) == 3  # the reference twice per round
    assert calls == {"a": 2 + 6, "b": 2 + 3}
    assert all(t >= 0 for t in durations["a"] + durations["b"])


# ------------------------------------------------------- superpixel metrics
HALVES = np.repeat([[0, 0, 1, 1]], 4, axis=0)  # ground truth: left and right half of a 4×4 image


def test_segments_equal_to_the_truth_are_perfect():
    assert boundary_recall(HALVES, HALVES) == 1.0
    assert undersegmentation_error(HALVES, HALVES) == 0.0
    relabelled = np.where(HALVES == 0, -7, 1000)  # any integer labels
    assert boundary_recall(relabelled, HALVES) == 1.0 and undersegmentation_error(relabelled, HALVES) == 0.0


def test_one_pixel_per_superpixel_leaks_nothing():
    pixels = np.arange(16).reshape(4, 4)
    assert undersegmentation_error(pixels, HALVES) == 0.0
    assert boundary_recall(pixels, HALVES) == 1.0


def test_one_superpixel_over_everything():
    whole = np.zeros((4, 4), dtype=int)
    assert boundary_recall(whole, HALVES) == 0.0
    # Each half: min(8 inside, 8 outside) = 8; (8 + 8) / 16 pixels.
    assert undersegmentation_error(whole, HALVES) == 1.0


def test_a_boundary_one_pixel_off():
    shifted = np.repeat([[0, 0, 0, 1]], 4, axis=0)  # superpixels: columns 0-2 and column 3
    # True boundary pixels: columns 1 and 2; superpixel boundary pixels: columns 2 and 3.
    assert boundary_recall(shifted, HALVES, tolerance=0) == 0.5
    assert boundary_recall(shifted, HALVES, tolerance=1) == 1.0
    # Left half: min(8, 4) for the big superpixel; right half: min(4, 8) and min(4, 0).
    assert undersegmentation_error(shifted, HALVES) == pytest.approx(8 / 16)


@pytest.mark.parametrize(
    "segments,truth,error,pattern",
    [
        (np.zeros((4, 5), int), HALVES, ValueError, "one shape"),
        (HALVES.astype(float), HALVES, TypeError, "integers"),
    ],
)
def test_metrics_refuse_bad_labels(segments, truth, error, pattern):
    for metric in (boundary_recall, undersegmentation_error):
        with pytest.raises(error, match=pattern):
            metric(segments, truth)


def test_recall_needs_a_true_boundary():
    with pytest.raises(ValueError, match="single region"):
        boundary_recall(HALVES, np.zeros((4, 4), int))
