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
