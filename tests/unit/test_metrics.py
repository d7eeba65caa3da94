import copy

import numpy as np
import pytest
import torch
from torch import nn

from tutorial_utils import (
    BASELINES,
    Curve,
    auc,
    average_drop,
    cascading_randomisation,
    class_activation_map,
    deletion_curve,
    explanation_map,
    increase_in_confidence,
    insertion_curve,
    load_image,
    randomisation_order,
    rank_correlation,
    upsample,
)


class Toy(nn.Module):
    """Two classes; the logit of class 0 is k times the sum of channel 0: easy to compute by hand."""

    def __init__(self, k: float = 0.5) -> None:
        super().__init__()
        self.k = k

    def forward(self, x):
        s = self.k * x[:, 0].sum(dim=(1, 2))
        return torch.stack([s, torch.zeros_like(s)], dim=1)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-np.asarray(v, dtype=np.float64)))


@pytest.fixture
def toy_input():
    x = torch.zeros(1, 3, 2, 2)
    x[0, 0] = torch.tensor([[4.0, 3.0], [2.0, 1.0]])
    return x


@pytest.fixture(scope="module")
def coffee(lite):
    x = lite.preprocess(load_image("coffee"))
    with torch.no_grad():
        logits, f = lite.forward_features(x)
    c = int(logits.argmax())
    return x, c, class_activation_map(f, lite.fc_weight, c), logits


# --------------------------------------------------------------- deletion / insertion
def test_deletion_by_hand(toy_input):
    saliency = np.array([[4.0, 3.0], [2.0, 1.0]])  # delete 4, then 3, then 2, then 1
    curve = deletion_curve(Toy(), toy_input, saliency, 0, steps=4)
    assert isinstance(curve, Curve)
    np.testing.assert_allclose(curve.fractions, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(curve.scores, _sigmoid(0.5 * np.array([10, 6, 3, 1, 0])), rtol=1e-6)
    assert curve.area == pytest.approx(auc(curve.fractions, curve.scores))


def test_insertion_by_hand_and_a_tensor_baseline(toy_input):
    saliency = np.array([[4.0, 3.0], [2.0, 1.0]])
    curve = insertion_curve(Toy(), toy_input, saliency, 0, steps=4, baseline=torch.zeros_like(toy_input))
    np.testing.assert_allclose(curve.scores, _sigmoid(0.5 * np.array([0, 4, 7, 9, 10])), rtol=1e-6)


def test_ties_keep_raster_order(toy_input):
    # One pixel stands out; the other three tie and go in raster order: (0,0), (0,1), (1,0).
    saliency = np.array([[1.0, 1.0], [1.0, 2.0]])
    curve = deletion_curve(Toy(), toy_input, saliency, 0, steps=4)
    np.testing.assert_allclose(curve.scores, _sigmoid(0.5 * np.array([10, 9, 5, 2, 0])), rtol=1e-6)


def test_a_small_map_is_upsampled_to_the_input():
    x = torch.zeros(1, 3, 4, 4)
    x[0, 0] = torch.arange(16.0).reshape(4, 4)
    small = np.array([[0.0, 1.0]])  # right half first
    got = deletion_curve(Toy(), x, small, 0, steps=2)
    want = deletion_curve(Toy(), x, upsample(small, (4, 4)), 0, steps=2)
    np.testing.assert_array_equal(got.scores, want.scores)
    left = x[0, 0, :, :2].sum().item()
    assert got.scores[1] == pytest.approx(_sigmoid(0.5 * left))


def test_stack_gives_the_same_curves_as_single_calls(toy_input):
    stack = np.stack([np.array([[4.0, 3.0], [2.0, 1.0]]), np.array([[1.0, 2.0], [3.0, 4.0]])])
    both = insertion_curve(Toy(), toy_input, stack, 0, steps=4, baseline="mean", batch_size=3)
    assert isinstance(both, list) and len(both) == 2
    for curve, one in zip(both, stack):
        np.testing.assert_allclose(curve.scores, insertion_curve(Toy(), toy_input, one, 0, steps=4, baseline="mean").scores)


def test_curves_on_the_real_model(lite, coffee):
    x, c, cam, logits = coffee
    deletion = deletion_curve(lite, x, cam, c, steps=4)
    insertion = insertion_curve(lite, x, cam, c, steps=4)
    p = float(logits.softmax(1)[0, c])
    assert deletion.scores[0] == pytest.approx(p, abs=1e-5)  # nothing deleted yet: the full image
    assert insertion.scores[-1] == pytest.approx(p, abs=1e-5)  # everything inserted: the full image
    assert ((deletion.scores >= 0) & (deletion.scores <= 1)).all()
    assert 0 <= deletion.area <= 1 and 0 <= insertion.area <= 1
    again = deletion_curve(lite, x, cam, c, steps=4)
    np.testing.assert_array_equal(deletion.scores, again.scores)  # deterministic


@pytest.mark.parametrize("baseline", BASELINES)
def test_every_named_baseline_runs(lite, coffee, baseline):
    x, c, cam, _ = coffee
    curve = deletion_curve(lite, x, cam, c, steps=1, baseline=baseline)
    assert curve.scores.shape == (2,)


def test_black_is_pixel_zero(lite, coffee):
    x, c, cam, _ = coffee
    # Deleting everything onto black equals showing the model a black image.
    curve = deletion_curve(lite, x, cam, c, steps=1, baseline="black")
    with torch.no_grad():
        black = lite(lite.preprocess(np.zeros((8, 8, 3), np.uint8))).softmax(1)[0, c].item()
    assert curve.scores[-1] == pytest.approx(black, abs=1e-5)


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        (dict(saliency=np.full((2, 2), np.nan)), ValueError, "NaN"),
        (dict(saliency=np.ones((2, 2))), ValueError, "constant"),
        (dict(saliency=np.ones((1, 2, 2, 1))), ValueError, "shape"),
        (dict(steps=0), ValueError, "steps must be a positive integer"),
        (dict(steps=2.5), ValueError, "steps"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(class_idx=2), IndexError, "out of range"),
        (dict(class_idx=1.0), TypeError, "class_idx"),
        (dict(baseline="grey"), ValueError, "baseline must be one of"),
        (dict(baseline="black"), ValueError, "mean= and std="),
        (dict(baseline=torch.zeros(1, 3, 3, 3)), ValueError, "x's shape"),
        (dict(x=torch.zeros(2, 3, 2, 2)), ValueError, "one image at a time"),
        (dict(x=np.zeros((1, 3, 2, 2))), TypeError, "preprocess"),
        (dict(x=torch.full((1, 3, 2, 2), float("nan"))), ValueError, "NaN"),
    ],
)
def test_bad_input(toy_input, kwargs, error, pattern):
    args = dict(x=toy_input, saliency=np.array([[4.0, 3.0], [2.0, 1.0]]), class_idx=0)
    args.update(kwargs)
    options = {k: args.pop(k) for k in ("steps", "baseline", "batch_size") if k in args}
    with pytest.raises(error, match=pattern):
        deletion_curve(Toy(), args["x"], args["saliency"], args["class_idx"], **options)


def test_training_mode_is_refused(toy_input):
    model = Toy()
    model.drop = nn.Dropout(0.5)  # a layer that behaves differently in training mode
    model.train()
    with pytest.raises(ValueError, match="model.eval"):
        deletion_curve(model, toy_input, np.array([[1.0, 0.0], [0.0, 0.0]]), 0)


# --------------------------------------------------------------- auc
def test_auc_by_hand():
    assert auc([0.0, 0.5, 1.0], [1.0, 0.5, 0.0]) == pytest.approx(0.5)
    assert auc([0.0, 1.0], [1.0, 1.0]) == pytest.approx(1.0)
    assert auc([0.0, 0.25, 1.0], [0.0, 1.0, 1.0]) == pytest.approx(0.125 + 0.75)


@pytest.mark.parametrize(
    "t,p,pattern",
    [([0.0, 1.0], [1.0], "same length"), ([0.0], [1.0], "two points"), ([0.0, 1.0], [np.nan, 1.0], "NaN"),
     ([1.0, 0.0], [1.0, 1.0], "rise")],
)
def test_auc_bad_input(t, p, pattern):
    with pytest.raises(ValueError, match=pattern):
        auc(t, p)


# --------------------------------------------------------------- Average Drop / Increase in Confidence
def test_average_drop_and_increase_by_hand():
    Y, O = [0.8, 0.5, 0.4], [0.4, 0.6, 0.4]
    # drops: 0.4/0.8 = 0.5, none, none → 100 · 0.5 / 3
    assert average_drop(Y, O) == pytest.approx(100 * 0.5 / 3)
    assert increase_in_confidence(Y, O) == pytest.approx(100 / 3)  # equal is not an increase
    assert average_drop(0.5, 0.25) == pytest.approx(50.0)


@pytest.mark.parametrize(
    "Y,O,pattern",
    [([0.5, 0.5], [0.5], "equally long"), ([], [], "equally long"), ([3.2], [0.5], "probabilities"),
     ([0.5], [np.nan], "probabilities"), ([0.0], [0.5], "positive")],
)
def test_confidence_metrics_bad_input(Y, O, pattern):
    for metric in (average_drop, increase_in_confidence):
        with pytest.raises(ValueError, match=pattern):
            metric(Y, O)


# --------------------------------------------------------------- explanation map
def test_explanation_map_multiplies_pixels_not_the_normalised_tensor(lite, coffee):
    x = coffee[0]
    mean = torch.tensor(lite.mean).view(1, 3, 1, 1)
    std = torch.tensor(lite.std).view(1, 3, 1, 1)
    H, W = x.shape[-2:]
    ones, zeros, half = np.ones((H, W)), np.zeros((H, W)), np.full((H, W), 0.5)
    E = explanation_map(lite, x, np.stack([ones, zeros, half]))
    assert E.shape == (3, 3, H, W)
    torch.testing.assert_close(E[0:1], x)  # L = 1 keeps the image
    torch.testing.assert_close(E[1] * std[0] + mean[0], torch.zeros(3, H, W), atol=1e-5, rtol=0)  # L = 0: black
    torch.testing.assert_close(E[2:3] * std + mean, 0.5 * (x * std + mean), atol=1e-5, rtol=0)  # half the light
    small = explanation_map(lite, x, np.array([[0.0, 1.0]]))  # upsampled to x's size
    assert small.shape == (1, 3, H, W)


def test_explanation_map_bad_input(lite, coffee, toy_input):
    x = coffee[0]
    with pytest.raises(ValueError, match="normalise"):
        explanation_map(lite, x, np.full((4, 4), 2.0))
    with pytest.raises(ValueError, match="NaN"):
        explanation_map(lite, x, np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="mean= and std="):
        explanation_map(Toy(), toy_input, np.ones((2, 2)))
    E = explanation_map(Toy(), toy_input, np.ones((2, 2)), mean=(0.5,) * 3, std=(0.25,) * 3)
    torch.testing.assert_close(E, toy_input)


# --------------------------------------------------------------- cascading randomisation
def test_randomisation_order(lite):
    import torchvision

    order = randomisation_order(lite)
    assert order[0] == "fc" and order[1] == lite.feature_layer_name
    assert all(lite.get_submodule(name) is not None for name in order)
    assert len(order) == len(set(order))
    assert randomisation_order(torchvision.models.resnet18())[:4] == ["fc", "layer4.1", "layer4.0", "layer3.1"]
    with pytest.raises(ValueError, match="no layers with weights"):
        randomisation_order(Toy())


def test_cascade_randomises_a_copy_top_down_reproducibly(lite):
    before = copy.deepcopy(lite.state_dict())
    rng_before = torch.get_rng_state()
    steps = cascading_randomisation(lite, seed=3)
    names, first = next(steps)
    assert names == () and first is not lite
    for k, v in first.state_dict().items():
        assert torch.equal(v, before[k])  # step 0: the trained weights
    names, model = next(steps)
    assert names == ("fc",)
    assert not torch.equal(model.fc.weight, lite.fc.weight)
    assert torch.equal(model.features.head[0].weight, lite.features.head[0].weight)
    names, model = next(steps)
    assert names == ("fc", lite.feature_layer_name)
    assert not torch.equal(model.feature_layer[0].weight, lite.feature_layer[0].weight)
    assert not any(p.requires_grad for p in model.parameters())
    # the caller's model and random state are untouched
    for k, v in lite.state_dict().items():
        assert torch.equal(v, before[k])
    assert torch.equal(torch.get_rng_state(), rng_before)
    # same seed, same models
    again = cascading_randomisation(lite, seed=3)
    next(again), next(again)
    _, model_again = next(again)
    assert torch.equal(model_again.fc.weight, model.fc.weight)


def test_cascade_with_given_layers_and_bad_input(lite):
    steps = list(name for name, _ in cascading_randomisation(lite, ["fc"]))
    assert steps == [(), ("fc",)]
    with pytest.raises(ValueError, match="no layer named"):
        cascading_randomisation(lite, ["fc", "features.nope"])
    with pytest.raises(ValueError, match="repeated"):
        cascading_randomisation(lite, ["fc", "fc"])
    with pytest.raises(TypeError, match="sequence"):
        cascading_randomisation(lite, "fc")
    with pytest.raises(ValueError, match="seed"):
        cascading_randomisation(lite, seed=1.5)
    with pytest.raises(TypeError, match="Module"):
        cascading_randomisation("model")


# --------------------------------------------------------------- rank correlation
def test_rank_correlation_by_hand():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert rank_correlation(a, 10 * a + 3) == pytest.approx(1.0)  # scale does not matter
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, -a, absolute=True) == pytest.approx(1.0)
    assert rank_correlation(a, a**3) == pytest.approx(1.0)  # only the order counts
    b = np.array([[1.0, 3.0], [2.0, 4.0]])  # ranks 1 3 2 4 vs 1 2 3 4: ρ = 1 − 6·2/(4·15) = 0.8
    assert rank_correlation(a, b) == pytest.approx(0.8)


def test_rank_correlation_bad_input():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="same shape"):
        rank_correlation(a, np.ones((3, 3)))
    with pytest.raises(ValueError, match="b is constant"):
        rank_correlation(a, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="constant in absolute value"):
        rank_correlation(a, np.array([[1.0, -1.0], [1.0, -1.0]]), absolute=True)
    with pytest.raises(ValueError, match="NaN"):
        rank_correlation(a, np.full((2, 2), np.nan))
