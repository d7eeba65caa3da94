"""The shared input checks (tutorial_utils.checks) and the generic map tools' linear algebra (maps)."""

import argparse

import numpy as np
import pytest
import torch

from tutorial_utils import SmallCamNet, conv_block, interpolation_matrix, upsample
from tutorial_utils.checks import as_map_array, as_rng, class_indices, positive_int, positive_int_arg


@pytest.mark.parametrize("value", [1, 7, np.int64(3)])
def test_positive_int_accepts_integers(value):
    assert positive_int(value, "n") == int(value) and type(positive_int(value, "n")) is int


@pytest.mark.parametrize("value", [0, -2, 2.0, 2.5, True, np.bool_(True), "3", None])
def test_positive_int_names_the_argument(value):
    with pytest.raises(ValueError, match=r"^steps must be a positive integer, got "):
        positive_int(value, "steps")


def test_positive_int_arg_is_the_same_rule_for_a_command_line():
    assert positive_int_arg("12") == 12
    for text in ("0", "-1", "two", "1.5"):
        with pytest.raises(argparse.ArgumentTypeError, match="must be a positive integer"):
            positive_int_arg(text)


def test_as_rng():
    g = np.random.default_rng(5)
    assert as_rng(g) is g
    assert as_rng(3).integers(1000) == np.random.default_rng(3).integers(1000)
    for bad in (1.5, True, None, "0"):
        with pytest.raises(TypeError, match="seed must be an int or a numpy Generator"):
            as_rng(bad)


def test_class_indices():
    assert class_indices(torch.tensor(2), 5) == ([2], True)
    assert class_indices(np.array([0, 4]), 5) == ([0, 4], False)
    with pytest.raises(IndexError, match="out of range: the model has 5 classes"):
        class_indices(5, 5)
    with pytest.raises(TypeError):
        class_indices(1.0, 5)
    with pytest.raises(ValueError, match="empty"):
        class_indices([], 5)


def test_as_map_array():
    assert isinstance(as_map_array(torch.ones(2, 2)), np.ndarray)
    with pytest.raises(ValueError, match="NaN"):
        as_map_array(np.array([[np.nan, 0.0]]))
    with pytest.raises(ValueError, match=r"shape \(h, w\) or \(n, h, w\)"):
        as_map_array(np.zeros(4))
    with pytest.raises(TypeError, match="numbers"):
        as_map_array(np.zeros((2, 2), bool), "heatmap")


@pytest.mark.parametrize("n,size", [(7, 224), (2, 4), (5, 5), (14, 3)])
def test_interpolation_matrix_is_torchs_bilinear(n, size):
    R = interpolation_matrix(n, size)
    assert R.shape == (size, n)
    assert torch.allclose(R.sum(dim=1), torch.ones(size))        # every output a weighted mean
    signal = torch.randn(3, 1, n)
    expected = torch.nn.functional.interpolate(signal, size=size, mode="linear", align_corners=False)
    assert torch.allclose(signal @ R.T, expected, atol=1e-6)


def test_upsample_is_R_M_Ct():
    m = np.random.default_rng(0).normal(size=(7, 9)).astype(np.float32)
    R, C = interpolation_matrix(7, 50), interpolation_matrix(9, 60)
    assert np.allclose(upsample(m, (50, 60)), (R @ torch.from_numpy(m) @ C.T).numpy(), atol=1e-6)


def test_conv_block_and_small_cam_net():
    block = conv_block(3, 8, stride=2, dilation=1)
    assert block(torch.zeros(1, 3, 16, 16)).shape == (1, 8, 8, 8)
    assert conv_block(8, 8, dilation=2)(torch.zeros(1, 8, 16, 16)).shape == (1, 8, 16, 16)
    torch.manual_seed(0)
    net = SmallCamNet(3, channels=(4, 6))
    logits, f = net.forward_features(torch.zeros(2, 3, 32, 32))
    assert logits.shape == (2, 3) and f.shape == (2, 6, 16, 16) and net.feature_layer is net.features[-1]
    with pytest.raises(ValueError, match="n_classes must be a positive integer"):
        SmallCamNet(0)


def test_class_indices_checks_many_at_once():
    assert class_indices(range(3), 5) == ([0, 1, 2], False)
    assert class_indices(torch.arange(4), 5) == ([0, 1, 2, 3], False)
    assert class_indices([4, 0, 4], 5) == ([4, 0, 4], False)
    with pytest.raises(IndexError, match="class_idx 7 is out of range"):
        class_indices(np.array([1, 7, 2]), 5)
    with pytest.raises(IndexError, match="class_idx -1 is out of range"):
        class_indices(range(-1, 2), 5)
    with pytest.raises(ValueError, match="empty"):
        class_indices(range(0), 5)
    with pytest.raises(TypeError):
        class_indices([1, True], 5)                  # a bool is not a class index
