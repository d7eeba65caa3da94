"""check_prediction: None shows the answer and passes, a right guess is told so, a wrong one too, bad input is a clear error."""

import numpy as np
import pytest

from tutorial_utils import check_prediction


def test_none_shows_the_answer_and_the_reason():
    result = check_prediction(None, 0.42, why="most cells are positive.")
    assert result.right is None
    assert str(result) == "The answer: 0.42 — most cells are positive."
    assert result._repr_markdown_() == "**The answer:** 0.42 — most cells are positive."


def test_numbers_within_the_tolerance_are_right():
    assert check_prediction(0.4, 0.42, why="x", tolerance=0.05).right
    wrong = check_prediction(0.3, 0.42, why="x", tolerance=0.05)
    assert wrong.right is False
    assert str(wrong).startswith("✗ Not quite: you predicted 0.3; the answer is 0.42")
    assert check_prediction(7, np.int64(7), why="x").right  # NumPy answers are numbers too
    assert check_prediction(1_000, 1_000, why="x")._repr_markdown_().startswith("✓ **Right:** 1,000")


def test_strings_are_compared_without_case_or_spaces_and_must_be_a_choice():
    assert check_prediction(" Grows", "grows", why="x", choices=("grows", "shrinks")).right
    assert check_prediction("shrinks", "grows", why="x", choices=("grows", "shrinks")).right is False
    with pytest.raises(ValueError, match="prediction 'flat' is not one of"):
        check_prediction("flat", "grows", why="x", choices=("grows", "shrinks"))
    with pytest.raises(ValueError, match="answer 'flat' is not one of the choices"):
        check_prediction(None, "flat", why="x", choices=("grows", "shrinks"))


def test_booleans():
    assert check_prediction(True, np.bool_(True), why="x").right
    assert check_prediction(False, True, why="x").right is False


def test_a_guess_of_the_wrong_kind_names_prediction():
    with pytest.raises(TypeError, match="prediction should be a number"):
        check_prediction("0.4", 0.42, why="x")
    with pytest.raises(TypeError, match="prediction should be a str"):
        check_prediction(3, "grows", why="x")
    with pytest.raises(ValueError, match="prediction is NaN"):
        check_prediction(float("nan"), 0.42, why="x")


def test_the_reason_is_required():
    with pytest.raises(ValueError, match="why must say"):
        check_prediction(None, 1, why=" ")
