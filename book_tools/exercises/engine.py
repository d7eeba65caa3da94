r"""The checking engine behind every ``check_…``: call a reader's function, compare, and name the mistake.

An :class:`Exercise` is data: a reference implementation, a few test inputs
(:class:`Case`, built with :func:`make_case`) and a catalogue of known
mistakes (:class:`Mistake`). Checking a reader's function takes three steps,
kept apart so that ``python -m tutorial_utils check`` can run the middle one —
the only one that runs the reader's code — in a child process
(:mod:`book_tools.exercises.grading`):

1. :func:`inspect_answer` looks at the function without calling it, and
   :func:`verdict_before_calling` stops at a stub or at something that is not a function;
2. :func:`call_answer` calls it on one case and records what it did as an
   :class:`Outcome` — plain data that can travel between processes;
3. :func:`judge` compares the outcome with :func:`reference_answer`: right
   (``None``), a known mistake with its hint, or a description of the difference.

:func:`check_answer` runs the three steps in this process: it is what every
``check_…`` calls. A right answer is accepted when
``np.allclose(got, expected, rtol, atol · max(1, max|expected|))``.

>>> ex = Exercise(id="double", chapter="00_demo", function="my_double", signature="my_double(x)",
...               title="twice x", reference_name="2x", reference=lambda x: 2 * x,
...               cases=lambda: [make_case(x=np.arange(3.0))],
...               mistakes=(Mistake("forgot the 2", lambda x: x, "multiply by 2."),))
>>> check_answer(ex, lambda x: x + x)
✓ my_double is right: it matches 2x on 1 test inputs.
>>> print(check_answer(ex, lambda x: x))
✗ my_double is not right yet (forgot the 2): multiply by 2.
    called with x (array, float64) of shape (3,)
"""

from __future__ import annotations

import copy
import dis
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .base import Case, CheckResult, Exercise, ExerciseFailed, Mistake, float_tensor, make_case

__all__ = [
    "Case", "CheckResult", "Exercise", "ExerciseFailed", "Mistake", "Outcome", "as_numbers", "call_answer",
    "check_answer", "float_tensor", "inspect_answer", "judge", "make_case", "missing_verdict",
    "passed_verdict", "reference_answer", "safe_str", "verdict_before_calling",
]


# --------------------------------------------------------------------------- #
# Comparing
# --------------------------------------------------------------------------- #


class _WrongType(TypeError):
    """A result that holds no numbers; ``str(err)`` says so in a sentence for the reader."""


_GENERIC_ERROR_HINTS = (
    ("must match the size of tensor", "the shapes do not fit together: print the shape of every input and intermediate result."),
    ("could not be broadcast", "the shapes do not fit together: print the shape of every input and intermediate result."),
    ("shapes cannot be multiplied", "the shapes do not fit together: print the shape of every input and intermediate result."),
    ("is not defined", "a name is missing: import it (for example `import numpy as np`) or define it in the same cell."),
)


def as_numbers(value, what: str) -> np.ndarray:
    """A result as a float64 array: a tensor, an array, a number or a list of numbers.

    ``what`` is appended to the reason when ``value`` is something else.

    >>> as_numbers(torch.tensor([1, 2]), "").dtype
    dtype('float64')

    Raises ``TypeError`` with a sentence for the reader when ``value`` holds no numbers.
    """
    if isinstance(value, torch.Tensor):
        arr = value.detach().cpu().numpy()
    elif isinstance(value, np.ndarray):
        arr = value
    elif isinstance(value, (bool, int, float, np.number, np.bool_)):
        arr = np.asarray(value)
    elif isinstance(value, (list, tuple)):
        try:
            arr = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            raise _WrongType(f"it returned a {type(value).__name__} that is not a list of numbers; {what}") from None
    else:
        raise _WrongType(f"it returned a {type(value).__name__}; {what}")
    if arr.dtype.kind not in "biuf":
        raise _WrongType(f"it returned values of type {arr.dtype}; {what}")
    return arr.astype(np.float64)


def _close(a: np.ndarray, b: np.ndarray, ex: Exercise) -> bool:
    if a.shape != b.shape:
        return False
    finite = b[np.isfinite(b)]
    scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
    return bool(np.allclose(a, b, rtol=ex.rtol, atol=ex.atol * scale, equal_nan=True))


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _shape(arr: np.ndarray) -> str:
    return "a single number" if arr.shape == () else f"shape {arr.shape}"


def _generic_difference(got: np.ndarray, expected: np.ndarray, ex: Exercise) -> tuple[str, tuple[str, ...]]:
    """Say how ``got`` differs from ``expected`` when no known mistake matches."""
    ref = ex.reference_name
    if expected.shape == ():
        return f"it returned {_fmt(got)}; the right answer is {_fmt(expected)}.", ()
    g, e = got.ravel(), expected.ravel()
    if float(e @ e) > 0:
        k = float(g @ e) / float(e @ e)
        if abs(k - 1) > 1e-3 and _close(got, k * expected, ex):
            if abs(k + 1) < 1e-3:
                return "its values have the wrong sign: every value is the right one times −1.", ()
            return f"its values are the right ones times {k:.4g}: a factor is off (a sum instead of a mean, or a missing division?).", ()
    offset = float(np.mean(g - e))
    if abs(offset) > 1e-6 and _close(got, expected + offset, ex):
        return f"its values are the right ones plus a constant {offset:.4g}.", ()
    if expected.ndim == 2 and expected.shape[0] == expected.shape[1] and _close(got, expected.T, ex):
        return "its rows and columns are swapped: the result is the right one transposed.", ()
    diff = np.abs(got - expected)
    diff = np.where(np.isnan(diff), np.inf, diff)
    idx = np.unravel_index(int(np.argmax(diff)), diff.shape)
    wrong = int(np.sum(~np.isclose(got, expected, rtol=ex.rtol, atol=ex.atol)))
    return (
        f"{wrong} of its {got.size} values {'differs' if wrong == 1 else 'differ'} from {ref}; the largest difference is "
        f"{_fmt(float(diff[idx]))} at index {tuple(int(i) for i in idx)} "
        f"(it returned {_fmt(float(got[idx]))}, the right value is {_fmt(float(expected[idx]))}).",
        (),
    )


def _shape_hint(got: tuple, expected: tuple) -> str:
    if len(got) == len(expected) == 2 and got == expected[::-1]:
        return " — height and width are swapped (transposed?)"
    if got == (1,) + expected:
        return " — it has an extra leading dimension of size 1: drop the batch dimension"
    if expected == (1,) + got:
        return " — the leading batch dimension of size 1 is missing"
    if int(np.prod(got)) == int(np.prod(expected)):
        return " — the right number of values, arranged in the wrong shape"
    return ""


def _quiet_call(fn, args):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return fn(*copy.deepcopy(args))


def _matching_mistake(ex: Exercise, got: np.ndarray, expected: np.ndarray, case: Case) -> Mistake | None:
    for mistake in ex.mistakes:
        try:
            wrong = as_numbers(_quiet_call(mistake.fn, case.args), "")
        except Exception:  # a mistake that cannot run on these inputs cannot match
            continue
        if ex.returns == "scalar" and wrong.size == 1:
            wrong = wrong.reshape(())
        if _close(wrong, expected, ex):
            continue  # indistinguishable from the right answer on this case
        if _close(got, wrong, ex):
            return mistake
    return None


# --------------------------------------------------------------------------- #
# Step 1: look at the reader's function
# --------------------------------------------------------------------------- #


def safe_str(value) -> str:
    """``str(value)``, or a description when the object's ``__str__`` fails (a reader's object may).

    >>> safe_str(ValueError("bad input"))
    'bad input'
    """
    try:
        return str(value)
    except Exception:  # noqa: BLE001 — a student's object whose __str__ fails
        return f"<{type(value).__name__} that cannot be printed>"


def _function_name(ex: Exercise, fn) -> str:
    try:
        name = getattr(fn, "__name__", None)
    except Exception:  # noqa: BLE001 — a student's object whose __getattr__ fails
        name = None
    return name if isinstance(name, str) and name and name != "<lambda>" else ex.function


def _is_stub(fn) -> bool:
    """True for a function whose body does nothing (``...``, ``pass``, a docstring, comments)."""
    code = getattr(fn, "__code__", None)
    if code is None or code.co_freevars:
        return False
    for ins in dis.get_instructions(code):
        if ins.opname in ("RESUME", "NOP", "RETURN_VALUE"):
            continue
        if ins.opname in ("LOAD_CONST", "RETURN_CONST") and ins.argval is None:
            continue
        return False
    return True


def inspect_answer(ex: Exercise, fn) -> tuple[str, str, str]:
    """``(name, status, type name)`` of a reader's function, without calling it.

    ``status`` is ``"function"``, ``"not_callable"`` or ``"stub"`` (a body that
    does nothing); ``name`` is the function's own name, or the exercise's for a lambda.

    >>> from book_tools.exercises import EXERCISES
    >>> def my_cam(f, W, c):
    ...     ...
    >>> inspect_answer(EXERCISES["cam"], my_cam), inspect_answer(EXERCISES["cam"], 42)
    (('my_cam', 'stub', ''), ('my_cam', 'not_callable', 'int'))
    """
    name = _function_name(ex, fn)
    if not callable(fn):
        return name, "not_callable", type(fn).__name__
    if _is_stub(fn):
        return name, "stub", ""
    return name, "function", ""


def missing_verdict(ex: Exercise) -> CheckResult:
    """The result for a namespace that does not define the exercise's function: not attempted.

    >>> from book_tools.exercises import EXERCISES
    >>> missing_verdict(EXERCISES["cam"])
    – my_cam is not attempted: no function of that name is defined.
    """
    return CheckResult(ex.id, False, f"{ex.function} is not attempted: no function of that name is defined.", attempted=False)


def verdict_before_calling(ex: Exercise, name: str, status: str, type_name: str) -> CheckResult | None:
    """The verdict on a function that is not worth calling (not a function, still the stub), else ``None``.

    ``name``, ``status`` and ``type_name`` are what :func:`inspect_answer` says.

    >>> from book_tools.exercises import EXERCISES
    >>> verdict_before_calling(EXERCISES["cam"], "my_cam", "stub", "").attempted
    False
    >>> verdict_before_calling(EXERCISES["cam"], "my_cam", "function", "") is None
    True
    """
    if status == "not_callable":
        return CheckResult(ex.id, False, f"{name} is not right yet: expected a function, got an object of type "
                                         f"{type_name}. Define `def {ex.signature}:` and pass the function itself.")
    if status == "stub":
        return CheckResult(
            ex.id, False,
            f"{name} is not attempted yet: its body is still the stub. Write it, then run the cell again.",
            attempted=False,
        )
    return None


# --------------------------------------------------------------------------- #
# Step 2: call it — the only step that runs the reader's code
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Outcome:
    """What the student's function did with one case's inputs: everything a verdict needs, and nothing else.

    ``kind`` is ``"value"`` (``got`` holds the result as float64 numbers),
    ``"none"``, ``"not_tensor"`` (``text`` is the type returned),
    ``"wrong_type"`` (``text`` says why it is not numbers), ``"raised"``
    (``error_type`` and ``text``, the exception's ``str``),
    ``"not_implemented"`` or ``"exited"`` (``text`` is the code given to
    ``sys.exit``). It is plain data so that the command line can call the
    function in a child process and judge the outcome in its own (see
    :mod:`book_tools.exercises.grading`).
    """

    kind: str
    got: np.ndarray | None = None
    text: str = ""
    error_type: str = ""


def call_answer(ex: Exercise, fn, case: Case) -> Outcome:
    """Call the student's ``fn`` on one case (on a copy of its inputs) and say what happened; never raises but for Ctrl-C.

    ``SystemExit`` counts as a failure like any other exception: a function
    that calls ``sys.exit`` must not end the notebook's cell, or the grader.

    >>> from book_tools.exercises import EXERCISES
    >>> ex = EXERCISES["average_drop"]
    >>> call_answer(ex, lambda Y, O: None, ex.cases()[0]).kind
    'none'
    >>> call_answer(ex, lambda Y, O: 1 / 0, ex.cases()[0]).error_type
    'ZeroDivisionError'
    """
    try:
        out = _quiet_call(fn, case.args)
    except NotImplementedError:
        return Outcome("not_implemented")
    except KeyboardInterrupt:
        raise
    except SystemExit as err:
        code = err.code
        return Outcome("exited", text="" if code is None else repr(code) if isinstance(code, str) else safe_str(code))
    except BaseException as err:  # noqa: BLE001 — the student's code: report, never propagate
        return Outcome("raised", text=safe_str(err), error_type=type(err).__name__)
    if out is None:
        return Outcome("none")
    if ex.returns == "tensor" and not isinstance(out, torch.Tensor):
        return Outcome("not_tensor", text=type(out).__name__)
    what = "expected a number." if ex.returns == "scalar" else "expected a NumPy array or a torch tensor."
    try:
        return Outcome("value", got=as_numbers(out, what))
    except _WrongType as err:
        return Outcome("wrong_type", text=str(err))
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 — an object of the student's that fails to convert
        return Outcome("wrong_type", text=f"it returned a {type(out).__name__} that cannot be read as numbers "
                                          f"({type(err).__name__}); {what}")


# --------------------------------------------------------------------------- #
# Step 3: judge what it did
# --------------------------------------------------------------------------- #


def reference_answer(ex: Exercise, case: Case) -> np.ndarray:
    """The right answer for one case, as float64 numbers: the exercise's reference, called on a copy of the inputs.

    >>> from book_tools.exercises import EXERCISES
    >>> ex = EXERCISES["cam"]
    >>> reference_answer(ex, ex.cases()[0]).shape
    (4, 5)
    """
    return as_numbers(_quiet_call(ex.reference, case.args), "")


def _not_right(ex: Exercise, name: str, message: str, details: Sequence[str] = ()) -> CheckResult:
    return CheckResult(ex.id, False, f"{name} is not right yet: {message}", tuple(details))


def _error_message(ex: Exercise, outcome: Outcome, inputs: str) -> str:
    """The sentence for an exception: its type, its first line, the inputs, and a hint where one fits."""
    error = outcome.text
    text = error.strip().splitlines()[0].rstrip(".") if error.strip() else ""
    message = f"it raised {outcome.error_type}" + (f": {text}" if text else "") + f" ({inputs})."
    for needle, hint in ex.error_hints + _GENERIC_ERROR_HINTS:
        if needle in error or needle == outcome.error_type:
            return message + f" Hint: {hint}"
    return message


def _judge_no_value(ex: Exercise, name: str, outcome: Outcome, inputs: str) -> CheckResult:
    """The verdict when the function gave no numbers: it raised, exited, returned ``None`` or something else."""
    if outcome.kind == "not_implemented":
        return CheckResult(ex.id, False, f"{name} is not attempted yet: it raises NotImplementedError.", attempted=False)
    if outcome.kind == "exited":
        return _not_right(ex, name, f"it called sys.exit({outcome.text}), which ends the whole program ({inputs}). "
                                    "Hand the result back with `return`.")
    if outcome.kind == "raised":
        return _not_right(ex, name, _error_message(ex, outcome, inputs))
    if outcome.kind == "none":
        return _not_right(ex, name, f"it returned None, when {inputs}. Did you forget the `return`?")
    if outcome.kind == "not_tensor":
        return _not_right(
            ex, name,
            f"it returned a {outcome.text}, but the model takes a torch tensor: "
            "build it with `torch.from_numpy(...)` (or torch operations) and return that.",
            (inputs,),
        )
    return _not_right(ex, name, outcome.text, (inputs,))  # "wrong_type"


def _judge_value(ex: Exercise, name: str, case: Case, expected: np.ndarray, got: np.ndarray) -> CheckResult | None:
    """The verdict on the numbers the function returned: ``None`` if right, else the mistake or the difference."""
    if ex.returns == "scalar" and got.size == 1:
        got = got.reshape(())
    mistake = _matching_mistake(ex, got, expected, case)
    details = (f"called with {case.text}",)
    if got.shape != expected.shape:
        lead = f"it returned {_shape(got)}; the right answer has {_shape(expected)}"
        if mistake is not None:
            return CheckResult(ex.id, False, f"{name} is not right yet ({mistake.name}): {lead} — {mistake.hint}", details)
        return _not_right(ex, name, f"{lead}{_shape_hint(got.shape, expected.shape)}.", details)
    if _close(got, expected, ex):
        return None
    if mistake is not None:
        return CheckResult(ex.id, False, f"{name} is not right yet ({mistake.name}): {mistake.hint}", details)
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        return _not_right(
            ex, name,
            f"it returned NaN or infinite values at {int(bad.sum())} of {got.size} positions, where the right "
            "answer is finite. Look for a division by zero.",
            details,
        )
    message, extra = _generic_difference(got, expected, ex)
    return _not_right(ex, name, message, details + extra)


def judge(ex: Exercise, name: str, case: Case, expected: np.ndarray, outcome: Outcome) -> CheckResult | None:
    """The verdict on one case: ``None`` when the outcome is the right answer, else the result to report.

    ``expected`` is :func:`reference_answer` for ``case``; ``name`` the
    function's name for the message. Makes no call of the reader's code.

    >>> from book_tools.exercises import EXERCISES
    >>> ex = EXERCISES["average_drop"]
    >>> case = ex.cases()[0]
    >>> print(judge(ex, "my_ad", case, reference_answer(ex, case), Outcome("none")))
    ✗ my_ad is not right yet: it returned None, when called with Y (array, float64) of shape (5,), O (array, float64) of shape (5,). Did you forget the `return`?
    """
    if outcome.kind == "value":
        return _judge_value(ex, name, case, expected, outcome.got)
    return _judge_no_value(ex, name, outcome, f"called with {case.text}")


def passed_verdict(ex: Exercise, name: str, n_cases: int) -> CheckResult:
    """The result for a function that was right on all ``n_cases`` test inputs.

    >>> from book_tools.exercises import EXERCISES
    >>> passed_verdict(EXERCISES["cam"], "my_cam", 3)
    ✓ my_cam is right: it matches class_activation_map on 3 test inputs.
    """
    return CheckResult(ex.id, True, f"{name} is right: it matches {ex.reference_name} on {n_cases} test inputs.")


# --------------------------------------------------------------------------- #
# The three steps in one process
# --------------------------------------------------------------------------- #


def _run_cases(ex: Exercise, name: str, fn) -> CheckResult:
    """Call ``fn`` on each case and judge it; stop at the first case that is not right."""
    cases = ex.cases()
    for case in cases:
        expected = reference_answer(ex, case)  # before the student's code runs on this case
        verdict = judge(ex, name, case, expected, call_answer(ex, fn, case))
        if verdict is not None:
            return verdict
    return passed_verdict(ex, name, len(cases))


def check_answer(ex: Exercise, fn, *, strict: bool = False) -> CheckResult:
    """Check the reader's ``fn`` against exercise ``ex``, in this process: the engine behind every ``check_…``.

    :func:`inspect_answer` the function, and unless :func:`verdict_before_calling`
    settles it, :func:`call_answer` it on each case and :func:`judge` each outcome.

    >>> from book_tools.exercises import EXERCISES
    >>> check_answer(EXERCISES["average_drop"], lambda Y, O: 100 * np.mean(np.maximum(0, Y - O) / Y)).passed
    True

    Never raises for a wrong answer unless ``strict=True``: then it raises
    :class:`ExerciseFailed` with the message.
    """
    name, status, type_name = inspect_answer(ex, fn)
    result = verdict_before_calling(ex, name, status, type_name)
    if result is None:
        result = _run_cases(ex, name, fn)
    if strict and not result.passed:
        raise ExerciseFailed(str(result))
    return result
