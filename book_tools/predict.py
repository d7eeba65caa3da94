"""Predict, then check: the reader writes a guess in a variable, a cell compares it with what the code computed.

Each chapter asks one question *before* it shows the answer. The reader sets
``prediction`` and runs the cell, which calls :func:`check_prediction` with the
answer the chapter's code computed and a sentence saying why:

* ``prediction = None`` (the cell as committed): nothing fails, so the book
  builds, and the answer stays hidden until the reader asks for it. In a
  notebook and on the website the cell shows a closed "Show the answer"
  toggle (an HTML ``<details>`` element); in a terminal the text says how to
  see it (``print(check)`` or ``check.answer``);
* a right guess: ✓ and the reason;
* a wrong guess: ✗, the guess, the answer and the reason. Nothing raises: a
  wrong prediction is part of learning, not an error.

Answers are numbers (right within ``tolerance``), strings (one of ``choices``,
compared without case or surrounding spaces) or booleans. A guess of the wrong
kind, or a string that is not one of the choices, is a clear ``TypeError`` or
``ValueError`` naming ``prediction``.

>>> check = check_prediction(None, "grows", why="every copy adds to the average.", choices=("grows", "stays"))
>>> check
No prediction yet: the answer is hidden. Set `prediction` and run the cell again, or print(...) this result to see it.
>>> print(check)
The answer: grows — every copy adds to the average.
>>> check_prediction(3, 3.2, why="…", tolerance=0.5).right
True
"""

from __future__ import annotations

import html
import math
import numbers
from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["HIDDEN", "SHOW_ANSWER", "PredictionCheck", "check_prediction"]


@dataclass(frozen=True)
class PredictionCheck:
    """What :func:`check_prediction` says: ``right`` is None when nothing was predicted."""

    prediction: object
    answer: object
    why: str
    right: bool | None

    def _verdict(self) -> tuple[str, str]:
        answer = _show(self.answer)
        if self.right is None:
            return "", f"The answer: {answer} — {self.why}"
        if self.right:
            return "✓ ", f"Right: {answer} — {self.why}"
        return "✗ ", f"Not quite: you predicted {_show(self.prediction)}; the answer is {answer} — {self.why}"

    def __str__(self) -> str:
        symbol, text = self._verdict()
        return symbol + text

    def __repr__(self) -> str:
        if self.right is None:
            return HIDDEN
        return str(self)

    def _repr_markdown_(self) -> str | None:
        if self.right is None:
            return None  # the answer goes only into the closed toggle of _repr_html_
        symbol, text = self._verdict()
        head, _, rest = text.partition(": ")
        return f"{symbol}**{head}:** {rest}"

    def _repr_html_(self) -> str | None:
        """With no prediction, a closed toggle that holds the answer; otherwise the Markdown verdict is shown."""
        if self.right is not None:
            return None
        _, text = self._verdict()
        head, _, rest = text.partition(": ")
        return (f'<details class="cam-book-answer"><summary>{SHOW_ANSWER}</summary>\n'
                f"<p><strong>{html.escape(head)}:</strong> {html.escape(rest)}</p>\n</details>")


HIDDEN = ("No prediction yet: the answer is hidden. Set `prediction` and run the cell again, "
          "or print(...) this result to see it.")
"""What a committed predict-then-check cell says in plain text: the answer is not printed under the question."""
SHOW_ANSWER = "No prediction yet — show the answer"
"""The label of the closed toggle that holds the answer, in a notebook and on the website."""


def _show(value) -> str:
    if isinstance(value, (bool, np.bool_)) or value is None:
        return str(value)
    if isinstance(value, numbers.Integral):
        return f"{int(value):,}"
    if isinstance(value, numbers.Real):
        return f"{float(value):.3g}"
    return str(value)


def check_prediction(prediction, answer, *, why: str, tolerance: float = 0.0,
                     choices: Sequence[str] | None = None) -> PredictionCheck:
    """Compare the reader's ``prediction`` with the computed ``answer``; ``why`` explains the answer.

    ``tolerance`` is the largest absolute difference that still counts as right
    for a number; ``choices`` lists the allowed strings for a string answer
    (the answer must be one of them).

    Raises
    ------
    TypeError
        ``prediction`` is not of the answer's kind (number, string or bool).
    ValueError
        ``prediction`` is a string outside ``choices``, a number is NaN, or the
        answer itself is not one of ``choices``.
    """
    if not isinstance(why, str) or not why.strip():
        raise ValueError("why must say, in a sentence, why the answer is what it is")
    kind = _kind(answer)
    if kind == "str" and choices is not None:
        allowed = [str(c).strip().lower() for c in choices]
        if str(answer).strip().lower() not in allowed:
            raise ValueError(f"the answer {answer!r} is not one of the choices {tuple(choices)}")
    if prediction is None:
        return PredictionCheck(None, answer, why, None)
    if _kind(prediction) != kind:
        raise TypeError(
            f"prediction should be a {'number' if kind == 'number' else kind}, like the answer; "
            f"got {type(prediction).__name__} {prediction!r}")
    if kind == "number":
        if math.isnan(float(prediction)):
            raise ValueError("prediction is NaN: write a number")
        right = abs(float(prediction) - float(answer)) <= tolerance
    elif kind == "str":
        guess = prediction.strip().lower()
        if choices is not None and guess not in [str(c).strip().lower() for c in choices]:
            raise ValueError(f"prediction {prediction!r} is not one of {tuple(choices)}")
        right = guess == str(answer).strip().lower()
    else:
        right = bool(prediction) == bool(answer)
    return PredictionCheck(prediction, answer, why, right)


def _kind(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "str"
    raise TypeError(f"an answer or prediction must be a number, a string or a bool, got {type(value).__name__}")
