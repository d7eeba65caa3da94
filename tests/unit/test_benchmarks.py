"""The benchmark (``python -m benchmarks.run``): its report, table, command line, timing and LIME pipeline.

The superpixel metrics it scores SLIC with are tested with SLIC, in ``test_slic.py``.
"""

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

from benchmarks import (
    LABELS,
    RESULT_KEYS,
    TABLE_KEYS,
    check_quality,
    compare_slic,
    format_markdown,
    format_table,
    median_time,
    run,
    slic_implementations,
    time_interleaved,
)
from benchmarks.run import main
from tutorial_utils import lime_classifier, lime_map, load_image, shapes_scene, superpixels

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
def test_the_ten_first_keys_keep_their_order_and_the_new_ones_follow():
    assert RESULT_KEYS[:10] == ("forward_ms", "cam_ms", "secam_cached_ms", "slic_ms", "secam_ms", "gradcam_ms",
                                "hirescam_ms", "pgc_gradcam_ms", "lime_ms", "lime_samples")
    assert RESULT_KEYS[10:] == ("secam_all_classes_ms", "secam_fast_ms", "slic_fast_ms",
                                "slic_fast_boundary_recall", "slic_fast_undersegmentation_error")
    assert set(TABLE_KEYS) == set(TIMED) and len(TABLE_KEYS) == len(TIMED)


def test_results_are_positive_numbers(report):
    results = report["results"]
    assert list(results) == list(RESULT_KEYS)
    for key in TIMED:
        assert isinstance(results[key], float) and math.isfinite(results[key]) and results[key] > 0, key
    assert type(results["lime_samples"]) is int and results["lime_samples"] == LIME_SAMPLES
    for key in ("slic_fast_boundary_recall", "slic_fast_undersegmentation_error"):
        assert 0 <= results[key] <= 1, key  # measured in quick mode too


def test_the_fast_superpixels_are_scored_against_scikit_images(report):
    quality, results = report["superpixel_quality"], report["results"]
    assert quality["fast"]["boundary_recall"] == results["slic_fast_boundary_recall"]
    assert quality["fast"]["undersegmentation_error"] == results["slic_fast_undersegmentation_error"]
    reference, fast, tol = quality["reference"], quality["fast"], quality["tolerance"]
    assert quality["pass"] is (fast["boundary_recall"] >= reference["boundary_recall"] - tol
                               and fast["undersegmentation_error"] <= reference["undersegmentation_error"] + tol)
    assert check_quality({"reference": reference, "fast": {"boundary_recall": reference["boundary_recall"] - 0.03,
                                                           "undersegmentation_error": 0.0}})["pass"] is False


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
        "cam_ms": r["cam_ms"] <= 1.15 * r["forward_ms"],
        "secam_cached_ms": r["secam_cached_ms"] <= 1.05 * r["cam_ms"],
        "secam_all_classes_ms": r["secam_all_classes_ms"] <= 1.2 * r["forward_ms"],
        "secam_fast_ms": r["secam_fast_ms"] <= 3 * r["forward_ms"],
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
    assert set(alternatives) == {"scikit-image", "opencv_ximgproc", "fast"}
    assert alternatives["fast"]["median_ms"] == report["results"]["slic_fast_ms"]
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
        assert LABELS[key] in table, key
    verdicts = [line.rsplit(maxsplit=1)[-1] for line in table.splitlines() if line.endswith((" pass", " FAIL"))]
    assert len(verdicts) == len(report["targets"])
    for line in ("machine:", "model:", "settings:", "date:"):
        assert line in table
    assert report["date"] in table and report["machine"]["cpu"] in table


def test_markdown_has_a_row_per_method_and_the_context(report):
    text = format_markdown(report)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + len(TIMED) + 1 + len(report["slic_alternatives"])  # two headers
    assert "Fast superpixels on 10 generated scenes" in text
    for key in TIMED:
        row = next(r for r in rows if r.startswith(f"| {LABELS[key]}"))
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
    assert "RuntimeWarning" not in stderr  # the package does not import benchmarks.run before runpy runs it
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


def test_median_time_returns_the_median_and_the_last_result():
    calls = []

    def fn():
        calls.append(len(calls))
        return len(calls)

    seconds, last = median_time(fn, repeat=3, warmup=2)
    assert last == 5 and len(calls) == 2 + 3
    assert isinstance(seconds, float) and seconds >= 0
    with pytest.raises(ValueError, match="repeat"):
        median_time(fn, repeat=0)
    with pytest.raises(ValueError, match="warmup"):
        median_time(fn, warmup=-1)


# ------------------------------------------ LIME (tutorial_utils.lime_baseline)
@pytest.fixture(scope="module")
def lime_inputs(lite):
    """An image at the model's input size, its superpixels and the top class."""
    image = (lite.unnormalise(lite.preprocess(load_image("coffee"))) * 255).round().astype(np.uint8)
    segments = superpixels(image, n_segments=20)
    with torch.no_grad():
        c = int(lite(lite.preprocess(image)).argmax())
    return image, segments, c


def test_lime_classifier_gives_probabilities_with_and_without_resizing(lite, lime_inputs):
    image, _, _ = lime_inputs
    batch = np.stack([image, np.zeros_like(image)])
    resized = lime_classifier(lite)(batch)
    plain = lime_classifier(lite, resize=False)(batch)
    assert resized.shape == plain.shape == (2, lite.num_classes)
    np.testing.assert_allclose(resized.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(resized, plain, atol=1e-5)  # at the input size, resizing changes nothing
    # LIME may hand over float copies: the resizing path clips and rounds them down to uint8 first.
    np.testing.assert_allclose(lime_classifier(lite)(batch.astype(np.float64)), resized)


def test_lime_map_paints_one_weight_per_superpixel_and_repeats_with_the_seed(lite, lime_inputs):
    image, segments, c = lime_inputs
    first = lime_map(lite, image, c, segments, samples=20, seed=0, resize=False)
    assert first.shape == segments.shape and first.dtype == np.float32
    for label in np.unique(segments):
        assert np.ptp(first[segments == label]) == 0, label
    assert np.array_equal(first, lime_map(lite, image, c, segments, samples=20, seed=0, resize=False))


@pytest.mark.parametrize(
    "change,pattern",
    [
        (dict(segments_offset=1), "0 … n-1"),
        (dict(class_idx=-1), "class_idx"),
        (dict(samples=0), "samples"),
        (dict(crop=True), "input size"),
    ],
)
def test_lime_map_refuses_bad_inputs(lite, lime_inputs, change, pattern):
    image, segments, c = lime_inputs
    segments = segments + change.get("segments_offset", 0)
    if change.get("crop"):
        image, segments = image[:-8], segments[:-8]
    with pytest.raises(ValueError, match=pattern):
        lime_map(lite, image, change.get("class_idx", c), segments, samples=change.get("samples", 5), seed=0,
                 resize=False)
