"""Weakly supervised localisation (tutorial_utils.localisation): cam_box, box_iou, centre_box."""

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter
from skimage.measure import label, regionprops

from tutorial_utils import box_iou, cam_box, centre_box


def _plain_box(m, t=0.2, connectivity=2):
    """The chapter's lines: threshold, label, the largest region, its bbox."""
    kept = m >= t * m.max()
    largest = max(regionprops(label(kept, connectivity=connectivity)), key=lambda r: r.area)
    return tuple(int(v) for v in largest.bbox)


# --------------------------------------------------------------------------- cam_box

def test_cam_box_is_the_bounding_box_with_exclusive_ends():
    m = np.zeros((6, 8))
    m[1:3, 2:5] = 1.0
    box = cam_box(m)
    assert box == (1, 2, 3, 5)
    assert all(type(v) is int for v in box)
    row0, col0, row1, col1 = box
    assert m[row0:row1, col0:col1].all() and m.sum() == (row1 - row0) * (col1 - col0)


@pytest.mark.parametrize("seed", range(5))
def test_cam_box_equals_the_chapters_plain_lines_on_smooth_random_maps(seed):
    m = gaussian_filter(np.random.default_rng(seed).normal(size=(40, 56)), 3)
    for t in (0.1, 0.2, 0.5, 0.8):
        for connectivity in (1, 2):
            assert cam_box(m, t, connectivity=connectivity) == _plain_box(m, t, connectivity)


def test_the_largest_region_wins_even_without_the_maximum():
    # Decision (documented): the CAM paper takes the largest connected component, not the one at the peak.
    m = np.zeros((5, 7))
    m[0, 0] = 10.0            # the brightest pixel, alone
    m[2:5, 3:7] = 3.0         # 12 pixels at 30 % of the maximum
    assert cam_box(m) == (2, 3, 5, 7)
    assert cam_box(m, 0.5) == (0, 0, 1, 1)  # above 50 %, only the peak is left


def test_connectivity_decides_whether_diagonal_neighbours_join():
    m = np.zeros((6, 6))
    m[0:2, 0:2] = 1.0         # 4 pixels
    m[2:5, 2:5] = 1.0         # 9 pixels, touching the first block at a corner only
    assert cam_box(m, connectivity=2) == (0, 0, 5, 5)   # 8-connected: one region
    assert cam_box(m, connectivity=1) == (2, 2, 5, 5)   # 4-connected: the larger block


def test_a_tie_goes_to_the_first_region_in_raster_order():
    m = np.zeros((5, 9))
    m[3:5, 0:2] = 1.0
    m[0:2, 6:8] = 1.0         # same area, first in raster order
    assert cam_box(m) == (0, 6, 2, 8)


def test_threshold_edges_and_a_constant_map():
    m = np.array([[1.0, 2.0, -1.0], [0.0, 4.0, 0.5]])
    assert cam_box(m, 1.0) == (1, 1, 2, 2)                # only the maximum
    assert cam_box(m, 0.0) == (0, 0, 2, 3)                # every non-negative pixel, 8-connected
    assert cam_box(np.full((3, 4), 2.5)) == (0, 0, 3, 4)  # no information: the whole map


def test_cam_box_takes_tensors_and_float32():
    m = np.zeros((4, 4), np.float32)
    m[1:3, 1:3] = 1
    assert cam_box(torch.from_numpy(m)) == cam_box(m) == (1, 1, 3, 3)


@pytest.mark.parametrize("bad, message", [
    (np.array([[np.nan, 1.0], [0.0, 1.0]]), "cam contains NaN"),
    (np.array([[np.inf, 1.0], [0.0, 1.0]]), "cam contains NaN or infinite"),
    (np.zeros((2, 3, 3)), r"cam must be one map of shape \(h, w\)"),
    (np.zeros(4), r"cam must have shape \(h, w\)"),
    (np.zeros((0, 3)), r"cam must have shape \(h, w\)"),
    (-np.ones((3, 3)), "cam has no positive value"),
    (np.zeros((3, 3)), "cam has no positive value"),
])
def test_cam_box_refuses_maps_it_cannot_box(bad, message):
    with pytest.raises(ValueError, match=message):
        cam_box(bad)


@pytest.mark.parametrize("bad", [[[1.0, 2.0]], np.ones((2, 2), bool), "map"])
def test_cam_box_refuses_what_is_not_a_map_of_numbers(bad):
    with pytest.raises(TypeError, match="cam must"):
        cam_box(bad)


@pytest.mark.parametrize("threshold", [-0.1, 1.5, np.nan, True, "0.2", None])
def test_cam_box_names_a_bad_threshold(threshold):
    with pytest.raises(ValueError, match=r"threshold must be a number ≥ 0 and ≤ 1"):
        cam_box(np.ones((2, 2)), threshold)


@pytest.mark.parametrize("connectivity", [0, 3, True, 1.0, "2"])
def test_cam_box_names_a_bad_connectivity(connectivity):
    with pytest.raises(ValueError, match="connectivity must be 1"):
        cam_box(np.ones((2, 2)), connectivity=connectivity)


# --------------------------------------------------------------------------- box_iou

def test_box_iou_values():
    assert box_iou((0, 0, 4, 4), (0, 0, 4, 4)) == 1.0
    assert box_iou((0, 0, 4, 4), (2, 2, 6, 6)) == pytest.approx(4 / 28)
    assert box_iou((0, 0, 4, 4), (1, 1, 3, 3)) == pytest.approx(4 / 16)   # one inside the other
    assert box_iou((0, 0, 2, 2), (0, 2, 2, 4)) == 0.0                     # sharing an edge: ends exclusive
    assert box_iou((0, 0, 2, 2), (5, 5, 9, 9)) == 0.0
    assert type(box_iou((0, 0, 1, 1), (0, 0, 1, 1))) is float


def test_box_iou_is_symmetric_and_takes_arrays_and_floats():
    rng = np.random.default_rng(0)
    for _ in range(50):
        a = np.sort(rng.integers(0, 20, 4).reshape(2, 2), axis=0).T.ravel()[[0, 2, 1, 3]] + [0, 0, 1, 1]
        b = (2, 3, 11, 17)
        assert box_iou(a, b) == pytest.approx(box_iou(b, a))
        assert 0.0 <= box_iou(a, b) <= 1.0
    assert box_iou((0.5, 0.5, 2.5, 2.5), (0.5, 0.5, 2.5, 2.5)) == 1.0


def test_box_iou_agrees_with_pixel_masks():
    rng = np.random.default_rng(1)
    for _ in range(30):
        boxes = []
        for _ in range(2):
            r0, c0 = rng.integers(0, 15, 2)
            boxes.append((int(r0), int(c0), int(r0 + rng.integers(1, 10)), int(c0 + rng.integers(1, 10))))
        masks = [np.zeros((30, 30), bool) for _ in boxes]
        for mask, (r0, c0, r1, c1) in zip(masks, boxes):
            mask[r0:r1, c0:c1] = True
        expected = (masks[0] & masks[1]).sum() / (masks[0] | masks[1]).sum()
        assert box_iou(*boxes) == pytest.approx(expected)


@pytest.mark.parametrize("bad", [(0, 0, 4), (0, 0, 4, 4, 1), (4, 0, 0, 4), (0, 0, 0, 4), (0, 3, 4, 3),
                                 (0, 0, np.nan, 4), (True, 0, 4, 4), ("0", 0, 4, 4), None, 5])
def test_box_iou_names_the_bad_box(bad):
    with pytest.raises(ValueError, match=r"^a must be a box \(row0, col0, row1, col1\)"):
        box_iou(bad, (0, 0, 4, 4))
    with pytest.raises(ValueError, match=r"^b must be a box"):
        box_iou((0, 0, 4, 4), bad)


def test_cam_box_of_a_mask_has_iou_one_with_regionprops():
    mask = np.zeros((20, 30), bool)
    mask[3:11, 7:25] = True
    truth = regionprops(mask.astype(np.uint8))[0].bbox
    assert box_iou(cam_box(mask.astype(float)), truth) == 1.0


# --------------------------------------------------------------------------- centre_box

def test_centre_box():
    assert centre_box((100, 60), 0.5) == (25, 15, 75, 45)
    assert centre_box((32, 32), 1.0) == (0, 0, 32, 32)
    assert centre_box((10, 10), 0.01) == (4, 4, 5, 5)                 # at least one pixel
    row0, col0, row1, col1 = centre_box((31, 17), 0.4)
    assert abs(row0 - (31 - row1)) <= 1 and abs(col0 - (17 - col1)) <= 1   # centred
    assert all(type(v) is int for v in centre_box((np.int64(9), 9), 0.5))


@pytest.mark.parametrize("shape", [(0, 4), (4,), (4, 4, 3), (2.5, 4), "ab", None])
def test_centre_box_names_a_bad_shape(shape):
    with pytest.raises(ValueError, match=r"shape must be \(H, W\)"):
        centre_box(shape, 0.5)


@pytest.mark.parametrize("fraction", [0, -0.5, 1.01, np.nan, True])
def test_centre_box_names_a_bad_fraction(fraction):
    with pytest.raises(ValueError, match=r"fraction must be a number > 0 and ≤ 1"):
        centre_box((10, 10), fraction)
