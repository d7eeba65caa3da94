"""check_prediction: None shows the answer and passes, a right guess is told so, a wrong one too, bad input is a clear error."""

import numpy as np
import pytest

from book_tools import check_prediction


def test_none_hides_the_answer_until_the_reader_asks():
    result = check_prediction(None, 0.42, why="most cells are <positive> & small.")
    assert result.right is None
    # Asked for (print, str): the answer and the reason.
    assert str(result) == "The answer: 0.42 — most cells are <positive> & small."
    # Shown under the question (repr, Markdown): not the answer.
    assert "0.42" not in repr(result) and "positive" not in repr(result)
    assert result._repr_markdown_() is None
    # In a notebook and on the website: a closed toggle that holds it, escaped.
    page = result._repr_html_()
    assert page.startswith('<details class="cam-book-answer"><summary>') and page.endswith("</details>")
    assert " open" not in page.split(">")[0]
    assert "<strong>The answer:</strong> 0.42 — most cells are &lt;positive&gt; &amp; small." in page
    # What IPython displays: HTML and plain text only, and the plain text hides the answer too.
    from IPython.core.formatters import DisplayFormatter
    shown, _ = DisplayFormatter().format(result)
    assert set(shown) == {"text/plain", "text/html"}
    assert "0.42" not in shown["text/plain"]


def test_a_guess_shows_its_verdict_openly():
    result = check_prediction(0.4, 0.42, why="x", tolerance=0.05)
    assert result._repr_html_() is None and result._repr_markdown_().startswith("✓ **Right:**")
    assert repr(result) == str(result)


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
