r"""What an exercise is, and what a check returns: plain data, shared by the engine and every chapter's exercise.

An :class:`Exercise` holds a reference implementation, a few test inputs
(:class:`Case`, built with :func:`make_case`) and a catalogue of known
mistakes (:class:`Mistake`); a check returns a :class:`CheckResult`, and a
checker called with ``strict=True`` raises :class:`ExerciseFailed` instead of
returning a wrong one. The steps that run a reader's function and judge it are
in :mod:`book_tools.exercises.engine`.

>>> make_case(x=np.arange(3.0), c=1).text
'x (array, float64) of shape (3,), c=1'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

#: The two kinds of auto-checked exercise, in the order a chapter asks them.
KINDS = ("warm-up", "transfer")

__all__ = ["KINDS", "Case", "CheckResult", "Exercise", "ExerciseFailed", "Mistake", "float_tensor", "make_case"]


# --------------------------------------------------------------------------- #
# Results, and exercises: reference, test inputs, known mistakes
# --------------------------------------------------------------------------- #


class ExerciseFailed(AssertionError):
    """Raised by a checker called with ``strict=True`` when the answer is not right; ``str(err)`` is the message."""


@dataclass(frozen=True)
class CheckResult:
    """What a checker says about one function.

    ``exercise`` is the exercise's id (``"cam"``), ``passed`` whether the
    function is right, ``message`` one or two sentences for the reader,
    ``details`` extra lines (the inputs, the largest difference), and
    ``attempted`` is ``False`` for a missing function or an untouched stub.
    ``bool(result)`` is ``passed``; ``str(result)`` starts with ✓, ✗ or –.
    Jupyter shows it as Markdown with the verdict in bold.

    >>> result = CheckResult("cam", False, "my_cam is not right yet: it returned None.", ("called with c=2",))
    >>> bool(result), result.symbol, result._repr_markdown_().splitlines()[0]
    (False, '✗', '✗ **my_cam is not right yet:** it returned None.')
    """

    exercise: str
    passed: bool
    message: str
    details: tuple[str, ...] = ()
    attempted: bool = True

    def __bool__(self) -> bool:
        return self.passed

    @property
    def symbol(self) -> str:
        """✓ right, ✗ not right yet, – not attempted."""
        return "✓" if self.passed else ("✗" if self.attempted else "–")

    def __str__(self) -> str:
        lines = [f"{self.symbol} {self.message}"]
        lines += [f"    {line}" for line in self.details]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_markdown_(self) -> str:
        verdict, sep, rest = self.message.partition(": ")
        text = f"{self.symbol} **{verdict}{sep.strip()}**" + (f" {rest}" if sep else "")
        return "\n".join([text, ""] + [f"- {line}" for line in self.details])


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``fn`` computes it (same signature as the student's function), ``hint`` says what to do instead."""

    name: str
    fn: Callable
    hint: str


@dataclass(frozen=True)
class Case:
    """One test input: the arguments ``args`` for the function, and ``text``, how a message names them."""

    args: tuple
    text: str


@dataclass(frozen=True)
class Exercise:
    """One auto-checked exercise: where it lives, what the reader writes, and how it is checked.

    ``chapter`` is the notebook's stem, ``function`` the name the reader
    defines (``"my_cam"``), ``signature`` how it is called, ``title`` one line.
    ``reference`` computes the right answer (same signature), ``cases`` makes
    the test inputs (the same ones at every call), ``mistakes`` are the known
    wrong answers, tried in order; ``checker`` is the public ``check_…`` function.
    ``returns`` is ``"array"`` (NumPy or torch), ``"tensor"`` (torch only) or
    ``"scalar"``; ``error_hints`` pairs a piece of an error message with a hint.
    ``kind`` is ``"warm-up"`` (the chapter's computation, written again by the
    reader) or ``"transfer"`` (the same idea in a situation the chapter did not
    show); every chapter has one of each.
    """

    id: str
    chapter: str
    function: str
    signature: str
    title: str
    reference_name: str
    reference: Callable
    cases: Callable[[], list]
    mistakes: tuple[Mistake, ...]
    returns: str = "array"  # "array" (NumPy or torch), "tensor" (torch only) or "scalar"
    rtol: float = 1e-4
    atol: float = 1e-5
    error_hints: tuple[tuple[str, str], ...] = ()
    kind: str = "warm-up"  # "warm-up" or "transfer"
    checker: Callable | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Exercise {self.id!r}: kind must be one of {KINDS}, got {self.kind!r}")


def _describe(name: str, value) -> str:
    if isinstance(value, torch.Tensor):
        return f"{name} (tensor) of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"{name} (array, {value.dtype}) of shape {value.shape}"
    if isinstance(value, tuple):
        return f"{name}=({', '.join(f'{v:g}' for v in value)})"
    if isinstance(value, float):
        return f"{name}={value:g}"
    return f"{name}={value!r}"


def make_case(**named) -> Case:
    """A :class:`Case` from the arguments by name, in the order of the function's parameters.

    >>> make_case(f=torch.zeros(1, 4, 2, 3), c=2).text
    'f (tensor) of shape (1, 4, 2, 3), c=2'
    """
    return Case(tuple(named.values()), ", ".join(_describe(k, v) for k, v in named.items()))


def float_tensor(a) -> torch.Tensor:
    """A ``float32`` tensor of the numbers in ``a``, for a case's inputs.

    >>> float_tensor([[1, 2]]).dtype
    torch.float32
    """
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))
