"""Guided backpropagation, Guided Grad-CAM and targets on a segmentation output."""

import copy

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from tutorial_utils import (
    GuidedBackprop,
    class_activation_map,
    gradient_image,
    grad_cam,
    guided_backprop,
    guided_grad_cam,
    hires_cam,
    load_image,
    upsample,
)


@pytest.fixture(scope="module")
def coffee(lite):
    x = lite.preprocess(load_image("coffee"))
    with torch.no_grad():
        c = int(lite(x).argmax())
    return x, c


def _relus(model):
    return [m for m in model.modules() if isinstance(m, (nn.ReLU, nn.ReLU6))]


def test_guided_relu_by_hand():
    # y = v · ReLU(W x): the guided gradient keeps only paths through active
    # units whose incoming gradient v_j is positive.
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 1))
    x = torch.randn(1, 6)
    W, v = net[0].weight, net[2].weight[0]
    active = (net[0](x)[0] > 0).float()
    # Guided ReLU: a unit passes v_j only if it was active and v_j > 0; the
    # linear layer below is differentiated as usual.
    expected = ((v * active * (v > 0).float()) @ W).detach()
    x_ = x.clone().requires_grad_(True)
    with GuidedBackprop(net) as guided:
        assert guided.num_relus == 1
        net(x_)[0, 0].backward()
    torch.testing.assert_close(x_.grad[0], expected)
    assert isinstance(net[1], nn.ReLU)  # restored


def test_relu6_is_guided_in_its_active_range():
    x = torch.tensor([-1.0, 0.5, 3.0, 7.0], requires_grad=True)
    net = nn.Sequential(nn.ReLU6())
    with GuidedBackprop(net):
        y = net(x)
    (y * torch.tensor([1.0, 1.0, -1.0, 1.0])).sum().backward()
    torch.testing.assert_close(x.grad, torch.tensor([0.0, 1.0, 0.0, 0.0]))
    torch.testing.assert_close(y.detach(), torch.tensor([0.0, 0.5, 3.0, 6.0]))


def test_modules_are_restored_after_an_exception(lite, coffee):
    x, _ = coffee
    before = [id(m) for m in _relus(lite)]
    with pytest.raises(KeyError, match="inside"):  # not swallowed
        with GuidedBackprop(lite):
            assert not _relus(lite)  # all swapped inside the block
            raise KeyError("inside")
    assert [id(m) for m in _relus(lite)] == before
    logits_before = lite(x).detach()
    guided_backprop(lite, x, 0)
    assert [id(m) for m in _relus(lite)] == before
    torch.testing.assert_close(lite(x).detach(), logits_before)  # forward unchanged


def test_guided_backprop_shapes_and_batch(lite, coffee):
    x, c = coffee
    g = guided_backprop(lite, x, c)
    assert g.shape == (3, *x.shape[-2:]) and g.dtype == np.float32 and np.isfinite(g).all()
    assert np.abs(g).max() > 0
    x2 = lite.preprocess(load_image("chelsea"))
    both = guided_backprop(lite, torch.cat([x, x2]), [c, 285])
    assert both.shape == (2, *g.shape)
    np.testing.assert_allclose(both[0], g, atol=1e-6)
    np.testing.assert_array_equal(guided_backprop(lite, x, lambda logits: logits[:, c]), g)  # the same target
    ggc = guided_grad_cam(lite, x, c)
    expected = g * upsample(grad_cam(lite, x, c), x.shape[-2:])[None]
    np.testing.assert_allclose(ggc, expected, atol=1e-7)
    assert guided_grad_cam(lite, torch.cat([x, x2]), [c, 285]).shape == (2, *g.shape)


def test_guided_backprop_matches_pytorch_grad_cam():
    from pytorch_grad_cam import GuidedBackpropReLUModel

    torch.manual_seed(0)
    net = torchvision.models.resnet18().eval()
    x = torch.randn(1, 3, 96, 96)
    ours = guided_backprop(net, x, 7)
    theirs = GuidedBackpropReLUModel(copy.deepcopy(net), device="cpu")(x.clone(), 7)
    np.testing.assert_allclose(ours.transpose(1, 2, 0), theirs, rtol=1e-4, atol=1e-6)


def test_guided_backprop_bad_input(lite, coffee):
    x, c = coffee
    with pytest.raises(ValueError, match="no nn.ReLU"):
        guided_backprop(nn.Sequential(nn.Flatten(), nn.Linear(3 * 4 * 4, 2), nn.Tanh()), torch.zeros(1, 3, 4, 4), 0)
    with torch.no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        guided_backprop(lite, x, c)
    with pytest.raises(IndexError):
        guided_backprop(lite, x, 10**6)
    with pytest.raises(TypeError, match="model.preprocess"):
        guided_backprop(lite, np.zeros((224, 224, 3)), c)
    with pytest.raises(TypeError, match="nn.Module"):
        GuidedBackprop("model")


# --------------------------------------------------------------------------- #
# Targets on a segmentation output (Seg-Grad-CAM's Σ_(i,j)∈M y^c_ij)
# --------------------------------------------------------------------------- #


class _Seg(nn.Module):
    """Encoder + 1×1 classifier at the encoder's resolution (no upsampling)."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 6, 3, padding=1), nn.ReLU())
        self.classifier = nn.Conv2d(6, 3, 1)

    def forward(self, x):
        return self.classifier(self.encoder(x))


@pytest.fixture(scope="module")
def seg():
    net = _Seg().eval()
    x = torch.randn(2, 3, 10, 12, generator=torch.Generator().manual_seed(1))
    return net, x


def mask_target(c, mask):
    """Seg-Grad-CAM's target Σ_(i,j)∈M y^c_ij of each image, as a callable on the output."""
    mask = torch.as_tensor(mask)
    return lambda out: (out[:, c] * mask).sum(dim=(-2, -1))


def test_a_mask_target_gives_the_masked_class_map(seg):
    # With a 1×1 classifier, ∂(Σ_M y^c)/∂A^k_ij = w_ck [ij ∈ M], so
    # HiResCAM = M ⊙ Σ_k w_ck A^k (the CAM of class c inside the mask) and
    # Grad-CAM = ReLU(Σ_k α_k A^k) with α_k = w_ck |M| / Z.
    net, x = seg
    with torch.no_grad():
        A = net.encoder(x)
        logits = net(x)
    c = int(logits[0].argmax(0).flatten().mode().values)
    region = (logits[0].argmax(0) == c).numpy()
    cam = class_activation_map(A[0], net.classifier.weight[:, :, 0, 0], c)
    np.testing.assert_allclose(hires_cam(net, x[:1], mask_target(c, region), layer="encoder"), cam * region, atol=1e-5)
    predicted = lambda out: (out[0, c] * (out.argmax(1)[0] == c)).sum()  # noqa: E731 -- the default M
    np.testing.assert_allclose(hires_cam(net, x[:1], predicted, layer=net.encoder), cam * region, atol=1e-5)
    alpha = net.classifier.weight[c, :, 0, 0].detach().numpy() * region.sum() / region.size
    expected = np.maximum(np.tensordot(alpha, A[0].numpy(), 1), 0)
    np.testing.assert_allclose(grad_cam(net, x[:1], mask_target(c, region), layer="encoder"), expected, atol=1e-5)


def test_a_mask_restricts_the_target_and_a_batch_gets_one_score_per_image(seg):
    net, x = seg
    left = np.zeros(x.shape[-2:], bool)
    left[:, :3] = True
    m = hires_cam(net, x[:1], mask_target(1, left), layer="encoder")
    assert np.abs(m[:, 3:]).max() == 0 and np.abs(m[:, :3]).max() > 0
    masks = torch.from_numpy(np.stack([left, ~left]))
    both = grad_cam(net, x, lambda out: (out[[0, 1], [1, 2]] * masks).sum(dim=(1, 2)), layer="encoder")
    assert both.shape == (2, *x.shape[-2:])
    np.testing.assert_allclose(both[1], grad_cam(net, x[1:], mask_target(2, ~left), layer="encoder"), atol=1e-6)


def test_targets_on_a_segmentation_output_bad_input(seg, lite, coffee):
    net, x = seg
    with pytest.raises(ValueError, match="zero everywhere for image"):  # an empty mask: a blank map
        grad_cam(net, x[:1], mask_target(0, np.zeros(x.shape[-2:], bool)), layer="encoder")
    with pytest.raises(ValueError, match="pass layer= explicitly"):
        grad_cam(net, x[:1], mask_target(0, np.ones(x.shape[-2:], bool)))
    with pytest.raises(ValueError, match="callable target"):  # a class index needs class logits
        grad_cam(net, x[:1], 0, layer="encoder")
    assert not any(m._forward_hooks for m in net.modules())


def test_torchvision_style_dict_outputs(seg):
    net, x = seg

    class DictOut(nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return {"out": self.inner(x)}

    everywhere = np.ones(x.shape[-2:], bool)
    np.testing.assert_allclose(
        hires_cam(DictOut(net), x[:1], mask_target(1, everywhere), layer="inner.encoder"),
        hires_cam(net, x[:1], mask_target(1, everywhere), layer="encoder"),
        atol=1e-6,
    )


# --------------------------------------------------------------------------- #
# gradient_image
# --------------------------------------------------------------------------- #


def test_gradient_image():
    g = np.zeros((3, 4, 5))
    g[0, 0, 0], g[1, 0, 1] = 2.0, -2.0
    img = gradient_image(g, percentile=100)
    assert img.shape == (4, 5, 3) and img.dtype == np.uint8
    assert img[0, 0, 0] == 255 and img[0, 1, 1] == 0 and img[2, 2, 2] == 128
    np.testing.assert_array_equal(gradient_image(g.transpose(1, 2, 0), percentile=100), img)
    assert (gradient_image(np.zeros((3, 2, 2))) == 128).all()


@pytest.mark.parametrize(
    "g,kwargs,pattern",
    [
        (np.zeros((2, 4, 4)), {}, "must be"),
        (np.full((3, 2, 2), np.nan), {}, "NaN"),
        (np.zeros((3, 2, 2)), {"percentile": 0}, "percentile"),
    ],
)
def test_gradient_image_bad_input(g, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        gradient_image(g, **kwargs)
