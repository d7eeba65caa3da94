"""The shortcut chapter's helpers: data with a spurious marker, SmallCamNet, training, mass share."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from tutorial_utils import (
    MARKER_SETTINGS,
    SHORTCUT_CLASSES,
    ShortcutData,
    SmallCamNet,
    class_activation_map,
    images_to_tensor,
    positive_mass_share,
    predict_classes,
    shortcut_dataset,
    recompute_batchnorm,
    train_classifier,
)

# --------------------------------------------------------------------------- data


def test_dataset_shapes_types_and_masks():
    data = shortcut_dataset(40, seed=0)
    assert isinstance(data, ShortcutData)
    assert data.images.shape == (40, 32, 32, 3) and data.images.dtype == np.uint8
    assert data.labels.shape == (40,) and data.labels.dtype == np.int64
    assert set(np.unique(data.labels)) == {0, 1} and len(SHORTCUT_CLASSES) == 2
    assert data.marker.shape == data.objects.shape == (40, 32, 32)
    assert data.marker.dtype == data.objects.dtype == np.bool_
    assert not (data.marker & data.objects).any()
    assert data.objects.any(axis=(1, 2)).all()  # every scene has its shape
    assert data.has_marker.tolist() == data.marker.any(axis=(1, 2)).tolist()


def test_marker_is_the_glyph_in_a_corner_clear_of_the_shape():
    data = shortcut_dataset(30, seed=4, marker="everywhere")
    from scipy.ndimage import binary_dilation

    for image, marker, shape in zip(data.images, data.marker, data.objects):
        rows, cols = np.nonzero(marker)
        assert rows.max() - rows.min() + 1 == 5 and cols.max() - cols.min() + 1 == 5
        assert rows.min() in (1, 26) and cols.min() in (1, 26)  # one pixel from two borders
        assert set(np.unique(image[marker])) == {20, 245}
        assert (image[marker] == 20).all(axis=1).sum() == 5  # the dark "L" has five pixels
        assert not (binary_dilation(shape, iterations=2) & marker).any()


def test_marker_scales_with_the_image():
    data = shortcut_dataset(3, seed=0, size=64, marker="everywhere")
    assert data.images.shape == (3, 64, 64, 3)
    assert (data.marker.sum(axis=(1, 2)) == 100).all()  # 10 × 10


def test_same_seed_same_scenes_for_every_marker_setting():
    a = shortcut_dataset(20, seed=7, marker="everywhere")
    b = shortcut_dataset(20, seed=7, marker="everywhere")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    none = shortcut_dataset(20, seed=7, marker="none")
    np.testing.assert_array_equal(a.labels, none.labels)
    np.testing.assert_array_equal(a.objects, none.objects)
    outside = ~a.marker
    np.testing.assert_array_equal(a.images[outside], none.images[outside])
    assert not none.has_marker.any() and a.has_marker.all()
    assert not np.array_equal(shortcut_dataset(20, seed=8).images, a.images)


def test_marker_rates_follow_the_setting():
    perfect = shortcut_dataset(60, seed=1, marker=(0.0, 1.0))
    np.testing.assert_array_equal(perfect.has_marker, perfect.labels == 1)
    flipped = shortcut_dataset(60, seed=1, marker=(1, 0))
    np.testing.assert_array_equal(flipped.has_marker, flipped.labels == 0)
    data = shortcut_dataset(400, seed=2, marker="correlated")
    p_square, p_disc = MARKER_SETTINGS["correlated"]
    assert abs(data.has_marker[data.labels == 1].mean() - p_disc) < 0.03
    assert abs(data.has_marker[data.labels == 0].mean() - p_square) < 0.03
    half = shortcut_dataset(400, seed=2, marker="uncorrelated")
    for label in (0, 1):
        assert 0.4 < half.has_marker[half.labels == label].mean() < 0.6


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"n": 0}, ValueError, "n must"),
        ({"n": 2.5}, ValueError, "n must"),
        ({"n": True}, ValueError, "n must"),
        ({"size": 16}, ValueError, "size"),
        ({"size": 32.0}, ValueError, "size"),
        ({"marker": "sometimes"}, ValueError, "marker"),
        ({"marker": (0.5,)}, ValueError, "marker"),
        ({"marker": (1.5, 0.0)}, ValueError, "marker"),
        ({"marker": None}, ValueError, "marker"),
        ({"seed": "a"}, TypeError, "seed"),
    ],
)
def test_dataset_bad_arguments(kwargs, error, pattern):
    args = {"n": 2, **kwargs}
    with pytest.raises(error, match=pattern):
        shortcut_dataset(**args)


# --------------------------------------------------------------------------- tensors


def test_images_to_tensor_values_and_shapes():
    images = np.zeros((2, 3, 4, 3), np.uint8)
    images[0, 0, 0] = [255, 0, 51]
    x = images_to_tensor(images)
    assert x.shape == (2, 3, 3, 4) and x.dtype == torch.float32
    assert x[0, :, 0, 0].tolist() == pytest.approx([0.5, -0.5, 51 / 255 - 0.5])
    assert images_to_tensor(images[0]).shape == (1, 3, 3, 4)


@pytest.mark.parametrize(
    "bad,error",
    [
        (np.zeros((2, 4, 4, 3), np.float32), TypeError),
        (torch.zeros(2, 4, 4, 3, dtype=torch.uint8), TypeError),
        (np.zeros((2, 3, 4, 4), np.uint8), ValueError),
        (np.zeros((4, 4), np.uint8), ValueError),
    ],
)
def test_images_to_tensor_bad_input(bad, error):
    with pytest.raises(error, match="images"):
        images_to_tensor(bad)


# --------------------------------------------------------------------------- network


def test_small_cam_net_is_a_cam_network():
    torch.manual_seed(0)
    net = SmallCamNet(3, channels=(4, 8, 6)).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        logits, f = net.forward_features(x)
        assert torch.equal(net(x), logits)
    assert logits.shape == (2, 3) and f.shape == (2, 6, 8, 8)
    assert net.fc_weight.shape == (3, 6) and net.fc_bias.shape == (3,)
    assert not net.fc_weight.requires_grad
    # The logit is the spatial mean of the class activation map plus the bias.
    M = class_activation_map(f, net.fc_weight, [2, 0])
    expected = logits[[0, 1], [2, 0]].numpy()
    np.testing.assert_allclose(M.mean(axis=(1, 2)) + net.fc_bias[[2, 0]].numpy(), expected, atol=1e-5)
    # feature_layer's output is f.
    seen = {}
    handle = net.feature_layer.register_forward_hook(lambda m, i, o: seen.update(f=o))
    with torch.no_grad():
        net(x)
    handle.remove()
    assert torch.equal(seen["f"], f)


@pytest.mark.parametrize("kwargs", [{"n_classes": 0}, {"n_classes": 2.0}, {"channels": ()},
                                    {"channels": (8, 0)}, {"channels": (8, True)}])
def test_small_cam_net_bad_arguments(kwargs):
    with pytest.raises(ValueError, match="n_classes|channels"):
        SmallCamNet(**kwargs)


# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def small_data():
    return shortcut_dataset(128, seed=3, marker=(0.0, 1.0))


def test_train_classifier_equals_the_plain_loop(small_data):
    torch.manual_seed(0)
    a = SmallCamNet(channels=(4, 8))
    b = SmallCamNet(channels=(4, 8))
    b.load_state_dict(a.state_dict())
    x, y = images_to_tensor(small_data.images), torch.from_numpy(small_data.labels)
    optimiser = torch.optim.Adam(a.parameters(), lr=1e-2)
    batches = torch.Generator().manual_seed(5)
    plain = []
    a.train()
    for _ in range(4):
        idx = torch.randint(0, len(x), (16,), generator=batches)
        loss = F.cross_entropy(a(x[idx]), y[idx])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        plain.append(loss.item())
    a.eval()
    recompute_batchnorm(a, x)
    losses = train_classifier(b, small_data.images, small_data.labels, steps=4, batch=16, lr=1e-2, seed=5)
    np.testing.assert_array_equal(losses, plain)
    for p, q in zip(a.state_dict().values(), b.state_dict().values()):
        assert torch.equal(p, q)  # weights and batch-norm statistics
    assert not b.training


def test_recompute_batchnorm_gives_the_statistics_of_all_images(small_data):
    torch.manual_seed(0)
    net = SmallCamNet(channels=(4, 8))
    x = images_to_tensor(small_data.images)
    bn = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    bn[0].running_mean.fill_(7.0)  # stale statistics, to be replaced
    weights = {k: v.clone() for k, v in net.state_dict().items() if "running" not in k and "num_batches" not in k}
    recompute_batchnorm(net, small_data.images, batch=len(x))  # one batch: the exact statistics
    with torch.no_grad():
        z = net.features[0][0](x)  # what the first batch-norm layer sees
    torch.testing.assert_close(bn[0].running_mean, z.mean(dim=(0, 2, 3)), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(bn[0].running_var, z.var(dim=(0, 2, 3), unbiased=True), rtol=1e-4, atol=1e-6)
    assert all(m.momentum == 0.1 for m in bn) and not net.training
    assert all(torch.equal(v, net.state_dict()[k]) for k, v in weights.items())  # weights untouched
    # In batches, the mean is the average of the batch means (equal batches here).
    recompute_batchnorm(net, x, batch=len(x) // 4)
    torch.testing.assert_close(bn[0].running_mean, z.mean(dim=(0, 2, 3)), rtol=1e-5, atol=1e-6)


def test_recompute_batchnorm_bad_arguments():
    with pytest.raises(TypeError, match="images must be a uint8"):
        recompute_batchnorm(SmallCamNet(channels=(4,)), np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="batch"):
        recompute_batchnorm(SmallCamNet(channels=(4,)), np.zeros((2, 8, 8, 3), np.uint8), batch=0)


def test_train_classifier_learns_and_is_seeded(small_data):
    nets = []
    for _ in range(2):
        torch.manual_seed(1)
        net = SmallCamNet(channels=(8, 8))
        losses = train_classifier(net, small_data.images, small_data.labels, steps=40, batch=32, seed=2)
        nets.append(net)
    assert losses.shape == (40,) and losses[-10:].mean() < losses[:10].mean()
    for p, q in zip(nets[0].parameters(), nets[1].parameters()):
        assert torch.equal(p, q)


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 1.5}, ValueError, "steps"),
        ({"batch": 0}, ValueError, "batch"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"labels": np.zeros(3, np.int64)}, ValueError, "labels"),
        ({"labels": np.full(8, 0.5)}, ValueError, "labels"),
        ({"labels": np.full(8, 2)}, ValueError, "0 … 1"),
        ({"images": np.zeros((8, 32, 32, 3), np.float32)}, TypeError, "images"),
        ({"lr": True}, ValueError, "lr"),
        ({"seed": "a"}, TypeError, "seed"),
        ({"net": torch.nn.Identity}, TypeError, "net"),
    ],
)
def test_train_classifier_bad_arguments(kwargs, error, pattern):
    args = {"net": SmallCamNet(channels=(4,)), "images": np.zeros((8, 32, 32, 3), np.uint8),
            "labels": np.zeros(8, np.int64), "steps": 1, **kwargs}
    if args["net"] is torch.nn.Identity:
        args["net"] = "not a network"
    with pytest.raises(error, match=pattern):
        train_classifier(**args)


def test_train_classifier_needs_autograd():
    with torch.no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        train_classifier(SmallCamNet(channels=(4,)), np.zeros((4, 32, 32, 3), np.uint8),
                         np.zeros(4, np.int64), steps=1)


def test_predict_classes_matches_argmax_in_any_batch_size(small_data):
    torch.manual_seed(0)
    net = SmallCamNet(channels=(4, 8))
    net.train()
    with torch.no_grad():
        expected = net.eval()(images_to_tensor(small_data.images)).argmax(1).numpy()
    net.train()
    np.testing.assert_array_equal(predict_classes(net, small_data.images), expected)
    np.testing.assert_array_equal(predict_classes(net, small_data.images, batch=7), expected)
    assert not net.training
    with pytest.raises(ValueError, match="batch"):
        predict_classes(net, small_data.images, batch=0)
    with pytest.raises(TypeError, match="net"):
        predict_classes(None, small_data.images)


# --------------------------------------------------------------------------- mass share


def test_positive_mass_share_by_hand():
    m = np.array([[3.0, -1.0], [1.0, 0.0]])
    top = np.array([[True, True], [False, False]])
    assert positive_mass_share(m, top) == pytest.approx(0.75)
    assert isinstance(positive_mass_share(m, top), float)
    # An even map scores the mask's area share.
    assert positive_mass_share(np.ones((4, 4)), np.eye(4, dtype=bool)) == pytest.approx(0.25)
    # A stack gives one share per map; a map with no positive value gives 0, not NaN.
    shares = positive_mass_share(np.stack([m, -np.ones((2, 2))]), np.stack([top, top]))
    np.testing.assert_allclose(shares, [0.75, 0.0])
    assert positive_mass_share(torch.tensor(m), torch.tensor(top)) == pytest.approx(0.75)


@pytest.mark.parametrize(
    "heatmap,mask,error,pattern",
    [
        (np.ones((2, 2)), np.ones((2, 3), bool), ValueError, "upsample"),
        (np.ones((2, 2)), np.ones((2, 2)), TypeError, "boolean"),
        (np.array([[np.nan, 1.0], [0.0, 0.0]]), np.ones((2, 2), bool), ValueError, "NaN"),
        (np.ones(4), np.ones(4, bool), ValueError, "shape"),
        ("map", np.ones((2, 2), bool), TypeError, "heatmap"),
    ],
)
def test_positive_mass_share_bad_input(heatmap, mask, error, pattern):
    with pytest.raises(error, match=pattern):
        positive_mass_share(heatmap, mask)
