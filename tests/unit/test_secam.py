import numpy as np
import pytest
import torch

from tutorial_utils import secam, threshold_mask


def _loop_secam(cam, segments):
    """The definition, one superpixel at a time."""
    out = np.zeros_like(cam, dtype=np.float64)
    for label in np.unique(segments):
        inside = segments == label
        out[inside] = cam[inside].mean()
    return out


def test_matches_the_definition_with_arbitrary_labels():
    rng = np.random.default_rng(0)
    cam = rng.normal(size=(30, 40))
    segments = rng.choice([-7, 3, 12, 1000], size=(30, 40))  # not contiguous, not from 0
    got = secam(cam, segments)
    assert got.shape == cam.shape and got.dtype == np.float32
    np.testing.assert_allclose(got, _loop_secam(cam, segments), rtol=1e-5, atol=1e-6)


def test_constant_inside_each_superpixel_and_mean_preserving():
    rng = np.random.default_rng(1)
    cam = rng.random((20, 20))
    segments = (np.arange(400).reshape(20, 20) // 7) % 5
    out = secam(cam, segments)
    for label in np.unique(segments):
        assert np.ptp(out[segments == label]) < 1e-6
    assert out.mean() == pytest.approx(cam.mean(), rel=1e-6)  # averaging keeps the total


def test_accepts_tensors():
    cam = torch.ones(4, 4)
    assert (secam(cam, np.zeros((4, 4), int)) == 1).all()


@pytest.mark.parametrize(
    "cam,segments,error,pattern",
    [
        (np.zeros((7, 7)), np.zeros((224, 224), int), ValueError, "upsample the CAM"),
        (np.zeros((4, 4, 1)), np.zeros((4, 4), int), ValueError, "2-D"),
        (np.full((4, 4), np.nan), np.zeros((4, 4), int), ValueError, "NaN"),
        (np.zeros((4, 4)), np.zeros((4, 4), float), TypeError, "integer labels"),
        (np.zeros((4, 4), bool), np.zeros((4, 4), int), TypeError, "numbers"),
        ([[0.0]], np.zeros((1, 1), int), TypeError, "numpy array"),
    ],
)
def test_bad_input(cam, segments, error, pattern):
    with pytest.raises(error, match=pattern):
        secam(cam, segments)


def test_threshold_mask():
    v = np.array([[0.1, 0.4], [0.8, 1.0]])
    assert threshold_mask(v, 0.5).tolist() == [[False, False], [True, True]]
    assert threshold_mask(v, 0.0).all()
    assert not threshold_mask(-v, 0.5).any()  # no positive value: nothing kept, no division
    assert not threshold_mask(np.zeros((2, 2)), 0.5).any()
    with pytest.raises(ValueError, match="t must"):
        threshold_mask(v, 1.5)
    with pytest.raises(ValueError, match="NaN"):
        threshold_mask(np.array([[np.nan]]), 0.5)


def test_secam_same_result_for_any_labelling():
    # SLIC-style labels 0…n-1 use the bins directly; negative or huge labels
    # go through np.unique. Relabelling must never change the map.
    rng = np.random.default_rng(3)
    cam = rng.normal(size=(30, 40)).astype(np.float32)
    seg = rng.integers(0, 12, size=(30, 40))
    expected = secam(cam, seg)
    for relabelled in (seg - 5, seg * 10**9, np.where(seg == 3, 10**12, seg)):
        np.testing.assert_allclose(secam(cam, relabelled), expected, rtol=1e-6)
    for s in np.unique(seg):
        np.testing.assert_allclose(expected[seg == s], cam[seg == s].mean(), rtol=1e-5)


# ------------------------------------------------- SeCAM by linearity (from the feature grid)
from tutorial_utils import (  # noqa: E402
    clear_superpixel_cache,
    load_image,
    superpixel_means,
    superpixels,
    upsample,
)
from tutorial_utils import secam_fast  # noqa: E402

# The chapter's superpixel_means and the fast one: every test below holds for both.
BOTH = pytest.mark.parametrize("means_of", [superpixel_means, secam_fast.superpixel_means], ids=["plain", "fast"])


def _by_pixels(cam, segments):
    """The definition: upsample to the segments' size, then the mean over each label, in sorted label order."""
    full = upsample(cam, segments.shape).astype(np.float64)
    return np.array([full[segments == label].mean() for label in np.unique(segments)])


@pytest.fixture(scope="module")
def coffee_segments():
    return superpixels(load_image("coffee"), n_segments=60)


@pytest.mark.parametrize("grid", [(7, 7), (5, 9), (1, 1), (14, 3)])
@BOTH
def test_superpixel_means_by_linearity_equal_the_pixel_route(coffee_segments, grid, means_of):
    cam = np.random.default_rng(sum(grid)).normal(size=grid).astype(np.float32)
    expected = _by_pixels(cam, coffee_segments)
    got = means_of(cam, coffee_segments)
    assert got.shape == (coffee_segments.max() + 1,)
    assert np.abs(got - expected).max() <= 1e-5 * np.ptp(cam) + 1e-12


@pytest.mark.parametrize("relabel", [
    lambda s: s * 7 - 20,                     # negative labels, gaps
    lambda s: np.where(s == 3, 10**9, s),     # a huge label
    lambda s: (s + 5).astype(np.int32),       # labels from 5, another dtype
])
@BOTH
def test_superpixel_means_with_odd_labels(coffee_segments, relabel, means_of):
    segments = relabel(coffee_segments)
    cam = np.random.default_rng(1).normal(size=(6, 8))
    assert np.allclose(means_of(cam, segments), _by_pixels(cam, segments), atol=1e-9)


@BOTH
def test_superpixel_means_of_a_stack_and_at_full_size(coffee_segments, means_of):
    stack = np.random.default_rng(2).normal(size=(4, 7, 7))
    means = means_of(stack, coffee_segments)
    assert means.shape == (4, coffee_segments.max() + 1)
    for one, row in zip(stack, means):
        assert np.allclose(row, means_of(one, coffee_segments))
    full = upsample(stack, coffee_segments.shape)                       # at the segments' size: averaged as is
    assert np.allclose(means_of(full, coffee_segments), means, atol=1e-5)


@BOTH
def test_one_superpixel_is_the_mean_of_the_upsampled_map(means_of):
    cam = np.arange(12.0).reshape(3, 4)
    segments = np.zeros((30, 40), dtype=np.int64)
    assert np.allclose(means_of(cam, segments), [upsample(cam, (30, 40)).mean()])


def test_secam_from_grid_equals_secam_of_the_upsampled_map(coffee_segments):
    cam = np.random.default_rng(3).normal(size=(7, 7)).astype(np.float32)
    fast = secam(cam, coffee_segments, from_grid=True)
    slow = secam(upsample(cam, coffee_segments.shape), coffee_segments)
    assert fast.dtype == np.float32 and fast.shape == coffee_segments.shape
    assert np.abs(fast - slow).max() <= 1e-5 * np.ptp(cam)
    stack = np.stack([cam, -cam])
    both = secam(stack, coffee_segments, from_grid=True)
    assert both.shape == (2, *coffee_segments.shape) and np.allclose(both[1], -fast, atol=1e-6)


def test_a_segmentation_changed_in_place_is_never_served_stale_weights():
    clear_superpixel_cache()
    superpixel_means = secam_fast.superpixel_means  # the one that keeps layouts
    segments = np.repeat(np.repeat(np.arange(4).reshape(2, 2), 10, axis=0), 10, axis=1)
    cam = np.random.default_rng(4).normal(size=(3, 3))
    before = superpixel_means(cam, segments)
    segments[:10, :] = 0                                   # the caller edits the same array
    after = superpixel_means(cam, segments)
    assert after.shape == (3,) and np.allclose(after, _by_pixels(cam, segments))
    assert not np.allclose(after[:1], before[:1])


def test_a_cached_layout_shares_no_memory_with_the_callers_array():
    clear_superpixel_cache()
    superpixel_means = secam_fast.superpixel_means  # the one that keeps layouts
    original = np.repeat(np.arange(4), 25).reshape(10, 10)
    full = np.random.default_rng(5).normal(size=(10, 10))
    before = superpixel_means(full, original)
    edited = original                                      # the caller's array, edited in place…
    edited[:5] = 3
    again = np.repeat(np.arange(4), 25).reshape(10, 10)     # …and a fresh array equal to the first
    assert np.allclose(superpixel_means(full, again), before)
    assert np.allclose(superpixel_means(full, edited), [full[edited == k].mean() for k in np.unique(edited)])


@BOTH
def test_superpixel_means_bad_input(coffee_segments, means_of):
    with pytest.raises(ValueError, match="NaN"):
        means_of(np.full((7, 7), np.nan), coffee_segments)
    with pytest.raises(ValueError, match=r"shape \(h, w\) or \(n, h, w\)"):
        means_of(np.zeros(7), coffee_segments)
    with pytest.raises(ValueError, match="2-D label image"):
        means_of(np.zeros((7, 7)), coffee_segments[None])
    with pytest.raises(TypeError, match="integer labels"):
        means_of(np.zeros((7, 7)), coffee_segments.astype(float))
    with pytest.raises(ValueError, match="from_grid=True"):
        secam(np.zeros((7, 7)), coffee_segments)           # the teaching error names the new route too


@pytest.mark.parametrize("seed", range(6))
def test_the_fast_module_agrees_with_the_plain_one_on_random_maps_and_segmentations(seed):
    rng = np.random.default_rng(seed)
    height, width = rng.integers(5, 40, size=2)
    blocks = rng.integers(0, 6, size=(3, 4))                         # a label may come back in several places:
    segments = np.kron(blocks, np.ones((height // 3 + 1, width // 4 + 1), int))[:height, :width]
    segments = [segments, segments * 7 - 11, np.where(segments == 2, 10**9, segments),  # non-contiguous, gaps,
                rng.integers(0, 50, size=(height, width))][seed % 4]                       # huge labels, noise
    grid = rng.normal(size=(rng.integers(1, 8), rng.integers(1, 8)))
    stack = rng.normal(size=(3, *grid.shape))
    full = rng.normal(size=(height, width))
    assert np.allclose(secam_fast.superpixel_means(grid, segments), superpixel_means(grid, segments), atol=1e-9)
    assert np.allclose(secam_fast.superpixel_means(stack, segments), superpixel_means(stack, segments), atol=1e-9)
    assert np.allclose(secam_fast.superpixel_means(full, segments), superpixel_means(full, segments), atol=1e-9)
    plain = secam(upsample(grid, segments.shape), segments)
    assert np.allclose(secam(grid, segments, from_grid=True), plain, atol=1e-5)
    assert np.allclose(secam_fast.secam_from_grid(full, segments), secam(full, segments), atol=1e-6)
