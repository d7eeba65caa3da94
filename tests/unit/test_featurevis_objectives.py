"""activation_maximisation with DeepVis's other objectives: one channel, one neuron (chapter 09)."""

import numpy as np
import pytest
import torch

from tutorial_utils import (
    Objective,
    activation_maximisation,
    channel_objective,
    class_objective,
    neuron_objective,
)


def _inner(model):
    return list(model.stage_layers)[2]


def test_objectives_compute_what_they_say():
    A = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).view(2, 3, 4, 5)
    assert torch.equal(channel_objective("x", 1)(A), A[0, 1].mean())
    assert torch.equal(neuron_objective("x", 2)(A), A[0, 2, 2, 2])
    assert torch.equal(neuron_objective("x", 2, position=(3, 1))(A), A[0, 2, 3, 1])
    logits = torch.randn(1, 7)
    assert torch.equal(class_objective(4)(logits), logits[0, 4])
    assert class_objective(4).class_idx == 4 and channel_objective("x", 1).class_idx is None
    assert channel_objective("x", 1).layer == "x" and class_objective(1).layer is None


@pytest.mark.parametrize(
    "call,error,pattern",
    [
        (lambda: channel_objective("x", -1), ValueError, "k must be an integer ≥ 0"),
        (lambda: channel_objective("x", 1.5), ValueError, "k must be an integer ≥ 0"),
        (lambda: neuron_objective("x", 0, position=(1, -2)), ValueError, "position"),
        (lambda: channel_objective("x", 9)(torch.zeros(1, 3, 2, 2)), IndexError, "3 channels"),
        (lambda: neuron_objective("x", 0, position=(5, 0))(torch.zeros(1, 3, 2, 2)), IndexError, "outside"),
        (lambda: channel_objective("x", 0)(torch.zeros(1, 3)), ValueError, "feature map"),
    ],
)
def test_objectives_refuse_bad_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_class_objective_is_the_default(lite):
    a = activation_maximisation(lite, 5, steps=2, seed=1)
    b = activation_maximisation(lite, objective=class_objective(5), steps=2, seed=1)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_allclose(a.logits, b.logits)
    assert a.probability == b.probability and a.objective == b.objective == "logit of class 5"
    assert a.scores is a.logits


def test_channel_objective_rises_and_matches_the_layer(lite):
    layer = _inner(lite)
    run = activation_maximisation(lite, objective=channel_objective(layer, 3), steps=6)
    assert run.probability is None and run.objective == f"mean of channel 3 of {layer}"
    assert run.scores.shape == (7,) and run.scores[-1] > run.scores[0]
    # The last score is the channel's mean on the returned image (up to its rounding to uint8).
    captured = {}
    handle = lite.get_submodule(layer).register_forward_hook(lambda m, i, o: captured.setdefault("A", o))
    try:
        with torch.no_grad():
            lite(lite.preprocess(run.image))
    finally:
        handle.remove()
    assert abs(float(captured["A"][0, 3].mean()) - run.scores[-1]) < 0.05 * (1 + abs(run.scores[-1]))
    assert not lite._forward_hooks and not lite.get_submodule(layer)._forward_hooks  # the stop-hook is gone
    assert not lite.training and all(p.grad is None for p in lite.parameters())


def test_neuron_objective_changes_the_centre_most(lite):
    run = activation_maximisation(lite, objective=neuron_objective(_inner(lite), 0), steps=8, jitter=0)
    assert run.scores[-1] > run.scores[0]
    change = np.abs(run.image / 255 - 0.5).mean(-1)
    h, w = change.shape
    centre = change[h // 4:-(h // 4), w // 4:-(w // 4)].mean()
    corners = np.mean([change[:h // 8, :w // 8].mean(), change[-(h // 8):, -(w // 8):].mean()])
    assert centre > 2 * corners


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({}, ValueError, "either class_idx or objective"),
        ({"class_idx": 1, "objective": class_objective(1)}, ValueError, "either class_idx or objective"),
        ({"objective": "channel 3"}, TypeError, "Objective"),
        ({"objective": channel_objective("features.nope", 0)}, ValueError, "no layer"),
        ({"objective": class_objective(10**6)}, IndexError, "out of range"),
    ],
)
def test_activation_maximisation_bad_objectives(lite, kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        activation_maximisation(lite, steps=1, **kwargs)


def test_a_channel_out_of_range_is_named(lite):
    layer = _inner(lite)
    with pytest.raises(IndexError, match="channels"):
        activation_maximisation(lite, objective=channel_objective(layer, 10**5), steps=1)
    assert not lite.get_submodule(layer)._forward_hooks


def test_objective_is_a_plain_dataclass():
    obj = Objective("layer", lambda A: A.sum(), "sum")
    assert obj(torch.ones(2, 2)) == 4 and obj.class_idx is None
