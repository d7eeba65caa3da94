import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from tutorial_utils import (
    SlicTrace,
    boundary_recall,
    load_image,
    slic_from_scratch,
    superpixels,
    undersegmentation_error,
)
from tutorial_utils.slic import gradient_magnitude, slic_distance

TOY = np.array(
    [[10, 10, 10, 20, 20], [10, 10, 10, 20, 20], [10, 10, 10, 20, 20], [30, 30, 30, 40, 40], [30, 30, 30, 40, 40]]
)


def test_worked_distance():
    # pixel (2, 2) against centre (1, 1), m = 10, S = 2.5: D = sqrt(32)
    assert slic_distance([10], [10], (2, 2), (1, 1), m=10, S=2.5) == pytest.approx(np.sqrt(32))


def test_toy_ends_in_four_blocks():
    trace = SlicTrace(0.0, None, None)
    labels = slic_from_scratch(TOY, n_segments=4, compactness=10, convert_to_lab=False, trace=trace)
    assert trace.S == pytest.approx(2.5)
    assert len(trace.grid_centres) == 4
    # The four blocks of equal intensity are exactly the four superpixels.
    assert adjusted_rand_score(TOY.ravel(), labels.ravel()) == 1.0
    assert trace.residuals[-1] < 0.01  # converged


def test_centres_move_to_the_lowest_gradient():
    trace = SlicTrace(0.0, None, None)
    slic_from_scratch(TOY, n_segments=4, compactness=10, convert_to_lab=False, trace=trace)
    grad = gradient_magnitude(TOY[..., None].astype(float))
    for (r, c), (mr, mc) in zip(trace.grid_centres, trace.moved_centres):
        assert abs(mr - r) <= 1 and abs(mc - c) <= 1
        window = grad[max(r - 1, 0) : r + 2, max(c - 1, 0) : c + 2]
        assert grad[mr, mc] == window.min()


def test_gradient_matches_the_paper_formula():
    img = np.arange(16, dtype=float).reshape(4, 4)
    g = gradient_magnitude(img[..., None])
    # interior pixel (1, 1): (I[2,1]-I[0,1])^2 + (I[1,2]-I[1,0])^2 = 8^2 + 2^2
    assert g[1, 1] == 68


def test_start_label_and_connectivity_on_a_real_image():
    img = load_image("coffee")[::4, ::4]
    labels = slic_from_scratch(img, n_segments=30, compactness=10, start_label=1)
    assert labels.min() == 1 and labels.shape == img.shape[:2]
    from scipy import ndimage

    for value in np.unique(labels):  # every superpixel is one connected piece
        assert ndimage.label(labels == value)[1] == 1


def test_agrees_with_scikit_image_more_than_a_grid_does():
    img = load_image("coffee")[::2, ::2]
    ours = slic_from_scratch(img, n_segments=60, compactness=10)
    theirs = superpixels(img, n_segments=60, compactness=10, sigma=0)
    rows, cols = np.indices(img.shape[:2])
    grid = (rows // (img.shape[0] // 6)) * 100 + cols // (img.shape[1] // 10)
    ari = adjusted_rand_score(ours.ravel(), theirs.ravel())
    assert ari > adjusted_rand_score(grid.ravel(), theirs.ravel())
    assert ari > 0.3


@pytest.mark.parametrize(
    "kwargs,pattern",
    [({"n_segments": 0}, "n_segments"), ({"compactness": 0}, "compactness"), ({"n_segments": 2.5}, "n_segments")],
)
def test_bad_parameters(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        slic_from_scratch(TOY, **kwargs)
    with pytest.raises(ValueError, match=pattern):
        superpixels(np.zeros((8, 8, 3), np.uint8), **kwargs)


def test_bad_images():
    with pytest.raises(ValueError, match="H×W"):
        slic_from_scratch(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="channels-first"):
        superpixels(np.zeros((3, 16, 16), np.uint8))
    with pytest.raises(ValueError, match="normalised"):
        superpixels(np.full((16, 16, 3), -0.5))


def test_superpixels_start_label():
    labels = superpixels(load_image("chelsea"), n_segments=50, start_label=1)
    assert labels.min() == 1 and labels.dtype.kind == "i"


# ---------------------------------------------------------- OpenCV backend
def _boundary(labels):
    edge = np.zeros(labels.shape, bool)
    edge[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    edge[1:] |= labels[1:] != labels[:-1]
    return edge


def test_opencv_backend_labels_and_agreement_with_scikit_image(lite):
    from scipy import ndimage

    import torch

    from tutorial_utils import class_activation_map, secam, upsample

    image = load_image("coffee")
    ours = superpixels(image, n_segments=100, backend="opencv")
    ref = superpixels(image, n_segments=100)
    assert ours.shape == image.shape[:2] and ours.dtype == np.int64
    labels = np.unique(ours)
    assert labels[0] == 0 and np.array_equal(labels, np.arange(len(labels)))  # 0 … n-1, no gaps
    assert 0.5 * len(np.unique(ref)) < len(labels) < 2 * len(np.unique(ref))
    # Every superpixel is one connected piece.
    assert all(ndimage.label(ours == k)[1] == 1 for k in labels)
    # The top class's CAM averaged in either set of superpixels gives nearly the same SeCAM.
    with torch.no_grad():
        logits, f = lite.forward_features(lite.preprocess(image))
    cam = upsample(class_activation_map(f, lite.fc_weight, int(logits.argmax())), image)
    r = np.corrcoef(secam(cam, ours).ravel(), secam(cam, ref).ravel())[0, 1]
    assert r > 0.9
    rows, cols = np.mgrid[0:image.shape[0], 0:image.shape[1]]
    # Its edges lie near scikit-image's more often than a plain grid's do.
    near = ndimage.distance_transform_edt(~_boundary(ref)) <= 2
    grid = (rows // 48) * 100 + cols // 48
    assert near[_boundary(ours)].mean() > near[_boundary(grid)].mean() + 0.1


def test_opencv_backend_start_label_and_bad_backend():
    image = load_image("coffee")[:80, :120]
    assert superpixels(image, n_segments=10, backend="opencv", start_label=1).min() == 1
    with pytest.raises(ValueError, match="backend must be one of"):
        superpixels(image, backend="cv2")
    with pytest.raises(ValueError, match="sigma"):
        superpixels(image, sigma=-1)


def test_opencv_backend_without_contrib_says_what_to_install(monkeypatch):
    import cv2

    monkeypatch.delattr(cv2, "ximgproc")
    with pytest.raises(ImportError, match="opencv-contrib-python-headless"):
        superpixels(load_image("coffee")[:40, :40], n_segments=4, backend="opencv")


# ------------------------------------- superpixel metrics (tutorial_utils.superpixel_metrics)
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
        (HALVES.astype(float), HALVES, TypeError, "integer labels"),
    ],
)
def test_metrics_refuse_bad_labels(segments, truth, error, pattern):
    for metric in (boundary_recall, undersegmentation_error):
        with pytest.raises(error, match=pattern):
            metric(segments, truth)


def test_recall_needs_a_true_boundary():
    with pytest.raises(ValueError, match="single region"):
        boundary_recall(HALVES, np.zeros((4, 4), int))


def test_boundary_pixels_are_those_scikit_image_finds():
    # The SLIC chapter computes boundary recall by hand with find_boundaries and checks it against the library.
    from scipy import ndimage
    from skimage.segmentation import find_boundaries

    image = load_image("coffee")[:120, :160]
    reference, candidate = superpixels(image, n_segments=30), superpixels(image, n_segments=60, sigma=0)
    distance = ndimage.distance_transform_edt(~find_boundaries(candidate))
    by_hand = float((distance[find_boundaries(reference)] <= 2).mean())
    assert boundary_recall(candidate, reference, tolerance=2) == by_hand


def test_fast_superpixels_are_opencv_with_two_rounds():
    from tutorial_utils import FAST_SLIC, fast_superpixels

    image = load_image("coffee")[:120, :180]
    fast = fast_superpixels(image, n_segments=40)
    assert fast.shape == image.shape[:2] and fast.min() == 0
    assert np.array_equal(np.unique(fast), np.arange(fast.max() + 1))        # 0 … n-1, no gaps
    assert np.array_equal(fast, superpixels(image, n_segments=40, **FAST_SLIC))
    assert FAST_SLIC == {"backend": "opencv", "iterations": 2}
    with pytest.raises(ValueError, match="iterations must be a positive integer"):
        superpixels(image, iterations=0)
