import numpy as np
import pytest
import torch

from tutorial_utils import class_activation_map, load_image


def _loop_cam(f, w, c):
    """M_c(x, y) = Σ_k w_k^c f_k(x, y), written as plainly as possible."""
    K, h, wd = f.shape
    out = np.zeros((h, wd))
    for k in range(K):
        out += w[c, k] * f[k]
    return out


@pytest.fixture
def fw():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 5, 6)).astype(np.float32), rng.normal(size=(10, 8)).astype(np.float32)


def test_matches_the_definition(fw):
    f, w = fw
    for c in (0, 3, 9):
        got = class_activation_map(f, w, c)
        assert got.shape == (5, 6) and got.dtype == np.float32
        np.testing.assert_allclose(got, _loop_cam(f, w, c), rtol=1e-5, atol=1e-5)


def test_accepts_tensors_with_grad_and_a_batch_of_one(fw):
    f, w = fw
    ft = torch.from_numpy(f).unsqueeze(0).requires_grad_(True)
    got = class_activation_map(ft, torch.from_numpy(w), torch.tensor(4))
    np.testing.assert_allclose(got, _loop_cam(f, w, 4), rtol=1e-5, atol=1e-5)


def test_several_classes_for_one_image(fw):
    f, w = fw
    got = class_activation_map(f, w, [1, 2, 2])
    assert got.shape == (3, 5, 6)
    np.testing.assert_allclose(got[2], _loop_cam(f, w, 2), rtol=1e-5, atol=1e-5)


def test_batches_are_never_silently_the_first_image(fw):
    f, w = fw
    batch = np.stack([f, 2 * f, -f])
    same = class_activation_map(batch, w, 5)
    assert same.shape == (3, 5, 6)
    for b, scale in enumerate((1, 2, -1)):
        np.testing.assert_allclose(same[b], scale * _loop_cam(f, w, 5), rtol=1e-5, atol=1e-5)
    each = class_activation_map(batch, w, [0, 1, 2])
    for b, (scale, c) in enumerate(zip((1, 2, -1), (0, 1, 2))):
        np.testing.assert_allclose(each[b], scale * _loop_cam(f, w, c), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="batch of 3 images but class_idx has 2"):
        class_activation_map(batch, w, [0, 1])


@pytest.mark.parametrize(
    "change,error,pattern",
    [
        (lambda f, w: (f, w.T), ValueError, "transposed"),
        (lambda f, w: (f, w[:, :5]), ValueError, "K=5 columns"),
        (lambda f, w: (f[0], w), ValueError, r"\(K, h, w\)"),
        (lambda f, w: (f, w[0]), ValueError, r"\(classes, K\)"),
        (lambda f, w: (np.where(f > 1, np.nan, f), w), ValueError, "NaN"),
        (lambda f, w: (f, np.where(w > 1, np.inf, w)), ValueError, "fc_weight contains"),
        (lambda f, w: (f.tolist(), w), TypeError, "feature_maps must be"),
        (lambda f, w: (f.astype(bool), w), TypeError, "numbers"),
    ],
)
def test_bad_inputs(fw, change, error, pattern):
    f, w = change(*fw)
    with pytest.raises(error, match=pattern):
        class_activation_map(f, w, 0)


@pytest.mark.parametrize(
    "class_idx,error,pattern",
    [
        (10, IndexError, "out of range.*10 classes"),
        (-1, IndexError, "out of range"),
        (True, TypeError, "integer"),
        (2.0, TypeError, "integer"),
        ("3", TypeError, "integer"),
        ([], ValueError, "empty"),
        (torch.tensor([1.5]), TypeError, "integer"),
    ],
)
def test_bad_class_indices(fw, class_idx, error, pattern):
    f, w = fw
    with pytest.raises(error, match=pattern):
        class_activation_map(f, w, class_idx)


def test_mean_plus_bias_is_the_logit_on_the_real_model(lite):
    with torch.no_grad():
        logits, f = lite.forward_features(lite.preprocess(load_image("chelsea")))
    top5 = logits[0].topk(5).indices.tolist()
    maps = class_activation_map(f, lite.fc_weight, top5)
    rebuilt = maps.mean(axis=(1, 2)) + lite.fc_bias[top5].numpy()
    np.testing.assert_allclose(rebuilt, logits[0, top5].numpy(), atol=1e-4, rtol=1e-5)


# ------------------------------------------------------------------ upsample
from tutorial_utils import normalise, upsample  # noqa: E402


def test_upsample_shapes_and_units():
    m = np.arange(12, dtype=np.float32).reshape(3, 4)
    up = upsample(m, (30, 40))
    assert up.shape == (30, 40) and up.dtype == np.float32
    assert m.min() - 1e-5 <= up.min() and up.max() <= m.max() + 1e-5  # bilinear never overshoots
    np.testing.assert_array_equal(upsample(m, m.shape), m)  # same size: unchanged
    stack = upsample(np.stack([m, 2 * m]), np.zeros((30, 40, 3), np.uint8))  # size from an image
    assert stack.shape == (2, 30, 40)
    np.testing.assert_allclose(stack[1], 2 * up, rtol=1e-6)


def test_upsample_is_linear_so_weighting_and_upsampling_commute(fw):
    f, w = fw
    c = 2
    after = upsample(class_activation_map(f, w, c), (25, 30))
    before = np.einsum("k,khw->hw", w[c], upsample(f, (25, 30)))
    np.testing.assert_allclose(after, before, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape,size", [((7, 7), (50, 60)), ((3, 7, 5), (400, 600)), ((20, 30), (9, 11))])
def test_upsample_matches_torch_bilinear_without_align_corners(shape, size):
    # upsample uses separable interpolation matrices; same numbers as the 2-D
    # interpolation up to float32 rounding, for one map, a stack and a shrink.
    m = np.random.default_rng(1).normal(size=shape).astype(np.float32)
    t = torch.from_numpy(m).reshape(-1, 1, *shape[-2:])
    ref = torch.nn.functional.interpolate(t, size=size, mode="bilinear", align_corners=False)
    np.testing.assert_allclose(upsample(m, size), ref[:, 0].reshape(*shape[:-2], *size).numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "cam,size,error,pattern",
    [
        (np.zeros((2, 2)), (0, 5), ValueError, "positive"),
        (np.zeros((2, 2)), (2.5, 5), ValueError, "positive integers"),
        (np.zeros((2, 2)), "big", ValueError, "size"),
        (np.zeros(4), (2, 2), ValueError, r"\(h, w\)"),
        (np.full((2, 2), np.nan), (4, 4), ValueError, "NaN"),
        ([[1.0]], (4, 4), TypeError, "numpy array"),
    ],
)
def test_upsample_bad_input(cam, size, error, pattern):
    with pytest.raises(error, match=pattern):
        upsample(cam, size)


# ----------------------------------------------------------------- normalise
def test_relu_max():
    m = np.array([[-3.0, 0.0], [2.0, 4.0]])
    np.testing.assert_allclose(normalise(m), [[0, 0], [0.5, 1]])
    np.testing.assert_allclose(normalise(m, "relu_max"), normalise(m))


def test_minmax():
    m = np.array([[-3.0, 0.0], [2.0, 5.0]])
    np.testing.assert_allclose(normalise(m, "minmax"), [[0, 3 / 8], [5 / 8, 1]])


@pytest.mark.parametrize("method", ["minmax", "relu_max"])
@pytest.mark.parametrize("m", [np.full((3, 3), 2.5), np.full((3, 3), -1.0), np.zeros((3, 3)), -np.arange(9.0).reshape(3, 3)])
def test_normalise_never_gives_nan(method, m):
    out = normalise(m, method)
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1
    if method == "relu_max" and m.max() <= 0:
        assert not out.any()  # no positive evidence: nothing lights up


def test_normalise_stack_is_per_map():
    stack = np.stack([np.array([[0.0, 1.0]]), np.array([[0.0, 10.0]])])
    np.testing.assert_allclose(normalise(stack), [[[0, 1]], [[0, 1]]])


def test_normalise_bad_input():
    with pytest.raises(ValueError, match="unknown method.*minmax"):
        normalise(np.ones((2, 2)), "softmax")
    with pytest.raises(ValueError, match="NaN"):
        normalise(np.array([[np.inf, 1.0]]))
