import copy

import numpy as np
import pytest
import torch

from tutorial_utils import LayerCapture, class_activation_map, grad_cam, hires_cam, load_image, normalise, upsample


@pytest.fixture(scope="module")
def inputs(lite):
    x = lite.preprocess(load_image("coffee"))
    with torch.no_grad():
        logits, f = lite.forward_features(x)
    return x, int(logits.argmax()), f


def test_last_layer_identities(lite, inputs):
    x, c, f = inputs
    Z = f.shape[-2] * f.shape[-1]
    cam = class_activation_map(f, lite.fc_weight, c)
    np.testing.assert_allclose(grad_cam(lite, x, c), np.maximum(cam, 0) / Z, atol=1e-5)
    np.testing.assert_allclose(hires_cam(lite, x, c), cam / Z, atol=1e-5)


def test_inner_layer_by_name_and_by_module(lite, inputs):
    x, c, _ = inputs
    name = list(lite.stage_layers)[-3]
    by_name = grad_cam(lite, x, c, layer=name)
    by_module = grad_cam(lite, x, c, layer=lite.get_submodule(name))
    np.testing.assert_array_equal(by_name, by_module)
    assert by_name.ndim == 2 and (by_name >= 0).all()


def test_batch_gives_each_image_its_own_map(lite, inputs):
    x, c, _ = inputs
    x2 = lite.preprocess(load_image("chelsea"))
    batch = torch.cat([x, x2])
    maps = hires_cam(lite, batch, [c, 285])
    assert maps.shape[0] == 2
    np.testing.assert_allclose(maps[0], hires_cam(lite, x, c), atol=1e-5)
    np.testing.assert_allclose(maps[1], hires_cam(lite, x2, 285), atol=1e-5)
    with pytest.raises(ValueError, match="one class per image"):
        grad_cam(lite, batch, [c])


def test_a_class_index_and_the_callable_of_its_logit_give_the_same_map(lite, inputs):
    x, c, _ = inputs
    for method in (grad_cam, hires_cam):
        np.testing.assert_array_equal(method(lite, x, c), method(lite, x, lambda logits: logits[:, c]))
    x2 = lite.preprocess(load_image("chelsea"))
    batch = torch.cat([x, x2])
    per_image = lambda logits: logits[[0, 1], [c, 285]]  # noqa: E731 -- one score per image
    np.testing.assert_allclose(grad_cam(lite, batch, per_image), grad_cam(lite, batch, [c, 285]), atol=1e-7)


def test_no_grad_is_refused_clearly(lite, inputs):
    x, c, _ = inputs
    with torch.no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        grad_cam(lite, x, c)
    with torch.inference_mode(), pytest.raises(RuntimeError, match="no_grad"):
        hires_cam(lite, x, c)


def test_hooks_are_removed_even_when_the_forward_pass_fails(lite, inputs, monkeypatch):
    x, c, _ = inputs

    def broken(feature_maps):
        raise ArithmeticError("boom")

    monkeypatch.setattr(lite, "classify", broken)
    with pytest.raises(ArithmeticError, match="boom"):  # not swallowed
        grad_cam(lite, x, c)
    assert not any(m._forward_hooks for m in lite.modules())


def test_layer_capture_removes_its_hook(lite, inputs):
    x, _, _ = inputs
    with pytest.raises(KeyError):
        with LayerCapture(lite.feature_layer) as capture:
            lite(x)
            raise KeyError("inside")
    assert capture.activations is not None and capture.activations.requires_grad
    assert not lite.feature_layer._forward_hooks
    for _ in range(3):  # repeated use leaks nothing
        grad_cam(lite, x, 0)
    assert not any(m._forward_hooks for m in lite.modules())


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"layer": "features.nope"}, ValueError, "no layer named"),
        ({"layer": torch.nn.ReLU()}, ValueError, "not a module of this model"),
        ({"layer": 3}, TypeError, "layer must be"),
        ({"target": 5000}, IndexError, "out of range"),
        ({"target": 1.5}, TypeError, "target must be a class index"),
        ({"target": lambda out: 3.0}, TypeError, "target must return a tensor"),
        ({"target": lambda out: out[:, 0].detach()}, ValueError, "no gradient"),
        ({"target": lambda out: out[0, :3]}, ValueError, "3 scores for 1 images"),
        ({"target": lambda out: out[:, 0] * float("nan")}, ValueError, "NaN"),
    ],
)
def test_bad_arguments(lite, inputs, kwargs, error, pattern):
    x, c, _ = inputs
    args = {"target": c, **kwargs}
    with pytest.raises(error, match=pattern):
        grad_cam(lite, x, **args)


def test_bad_input_tensor(lite):
    with pytest.raises(TypeError, match="model.preprocess"):
        grad_cam(lite, np.zeros((224, 224, 3), np.uint8), 0)


@pytest.mark.parametrize("method", ["GradCAM", "HiResCAM"])
def test_agrees_with_pytorch_grad_cam(lite, inputs, method):
    import pytorch_grad_cam
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    x, c, _ = inputs
    ours_fn = grad_cam if method == "GradCAM" else hires_cam
    trainable = copy.deepcopy(lite)  # pytorch-grad-cam needs weights that require gradients
    for p in trainable.parameters():
        p.requires_grad_(True)
    for name in ("features.head", list(lite.stage_layers)[-3]):
        with getattr(pytorch_grad_cam, method)(model=trainable, target_layers=[trainable.get_submodule(name)]) as ref:
            theirs = ref(input_tensor=x, targets=[ClassifierOutputTarget(c)])[0]
        ours = normalise(upsample(np.maximum(ours_fn(lite, x, c, layer=name), 0), theirs.shape), "minmax")
        assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] >= 0.999
