"""activation_maximisation and the generated shape scenes."""

import numpy as np
import pytest
import torch

from tutorial_utils import SHAPE_CLASSES, activation_maximisation, shapes_dataset, shapes_scene


def test_activation_maximisation_raises_the_class_logit(lite):
    c = lite.class_index("flamingo")
    result = activation_maximisation(lite, c, steps=6, step_size=0.05)
    assert result.image.shape == (*lite.input_size, 3) and result.image.dtype == np.uint8
    assert result.logits.shape == (7,)
    assert result.logits[-1] > result.logits[0] + 1.0
    assert 0.0 <= result.probability <= 1.0 and result.seconds > 0
    assert not lite.training and all(p.grad is None for p in lite.parameters())


def test_activation_maximisation_is_seeded(lite):
    a = activation_maximisation(lite, 1, steps=2, seed=3)
    b = activation_maximisation(lite, 1, steps=2, seed=3)
    c = activation_maximisation(lite, 1, steps=2, seed=4)
    np.testing.assert_array_equal(a.image, b.image)
    assert not np.array_equal(a.image, c.image)


def test_plain_ascent_has_no_regulariser(lite):
    plain = activation_maximisation(lite, 1, steps=2, decay=0, blur_sigma=0, jitter=0)
    assert plain.settings["blur_sigma"] == 0 and plain.image.std() > 0


@pytest.mark.parametrize(
    "kwargs,error,pattern",
    [
        ({"class_idx": 10**6}, IndexError, "out of range"),
        ({"class_idx": [1, 2]}, ValueError, "one class"),
        ({"steps": 0}, ValueError, "steps"),
        ({"steps": 2.5}, ValueError, "steps"),
        ({"step_size": -1}, ValueError, "step_size"),
        ({"decay": 1.0}, ValueError, "decay"),
        ({"blur_sigma": float("nan")}, ValueError, "blur_sigma"),
        ({"blur_every": 0}, ValueError, "blur_every"),
        ({"jitter": -2}, ValueError, "jitter"),
    ],
)
def test_activation_maximisation_bad_arguments(lite, kwargs, error, pattern):
    args = {"class_idx": 1, **kwargs}
    with pytest.raises(error, match=pattern):
        activation_maximisation(lite, **args)


def test_activation_maximisation_needs_autograd_and_a_book_model(lite):
    with torch.no_grad(), pytest.raises(RuntimeError, match="no_grad"):
        activation_maximisation(lite, 1, steps=1)
    with pytest.raises(TypeError, match="load_model"):
        activation_maximisation(torch.nn.Linear(2, 2), 1, steps=1)


def test_shapes_scene_labels_match_the_drawing():
    image, labels = shapes_scene(0, size=48, kinds=[1, 2, 3])
    assert image.shape == (48, 48, 3) and image.dtype == np.uint8
    assert labels.shape == (48, 48) and labels.dtype == np.int64
    assert set(np.unique(labels)) <= set(range(len(SHAPE_CLASSES)))
    # A shape's pixels differ in colour from the background's.
    for k in np.unique(labels)[1:]:
        diff = np.abs(image[labels == k].mean(0) - image[labels == 0].mean(0)).sum()
        assert diff > 60, (k, diff)


def test_shapes_are_seeded_and_varied():
    a, la = shapes_dataset(5, seed=7)
    b, lb = shapes_dataset(5, seed=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert len({img.tobytes() for img in a}) == 5
    _, labels = shapes_dataset(60, seed=1)
    assert set(np.unique(labels)) == set(range(len(SHAPE_CLASSES)))


@pytest.mark.parametrize(
    "call,error,pattern",
    [
        (lambda: shapes_scene("x"), TypeError, "seed"),
        (lambda: shapes_scene(0, size=8), ValueError, "size"),
        (lambda: shapes_scene(0, shapes=(0, 2)), ValueError, "shapes"),
        (lambda: shapes_scene(0, kinds=[4]), ValueError, "kinds"),
        (lambda: shapes_dataset(0), ValueError, "positive"),
    ],
)
def test_shapes_bad_input(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()
