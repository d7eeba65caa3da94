r"""Auto-checked exercises: one per chapter, with a checker that says what goes wrong.

Each chapter's *Exercises* section asks the reader to write one function — their
own ``my_cam(f, W, c)``, ``my_secam(cam, segments)``, … — and to pass it to a
checker, ``check_cam(my_cam)``. The checker

1. calls the function on a few small, seeded, synthetic inputs (no model is
   loaded; every check takes well under a second);
2. reports an exception, ``None``, a wrong type, a wrong shape or NaN with the
   inputs that caused it;
3. compares the result with the book's reference (the helper in
   ``tutorial_utils`` where one exists) with ``np.allclose``;
4. when the values are wrong, compares them with a list of **known mistakes** —
   each a wrong variant of the computation with a hint — and names the one that
   matches; if none does, it says where the largest difference is.

The inputs are designed so that every known mistake gives a result different from
the right answer and from every other mistake (classes ≠ K, non-square maps,
non-zero biases, mixed signs, labels with gaps); the unit tests prove it.

>>> from tutorial_utils import check_cam
>>> result = check_cam(lambda f, W, c: (W[c][:, None, None] * f[0]).sum(0))
>>> result.passed
True

``grade(namespace)`` runs every checker whose function is defined in a namespace,
in this process. ``python -m tutorial_utils check student.py`` does the same for
files, but runs the students' code in child processes and judges what it
returns in its own (:mod:`tutorial_utils._grader`): an answer that exits,
hangs, floods the output or monkeypatches the library cannot fool it.
"""

from __future__ import annotations

import ast
import contextlib
import copy
import dis
import io
import json
import runpy
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import torch

__all__ = [
    "CHECK_TIMEOUT",
    "EXERCISES",
    "CheckResult",
    "Exercise",
    "ExerciseFailed",
    "Mistake",
    "StudentFileError",
    "check_ascent_step",
    "check_average_drop",
    "check_cam",
    "check_cam_flops",
    "check_grad_cam",
    "check_guided_relu_grad",
    "check_head",
    "check_mass_share",
    "check_preprocess",
    "check_secam",
    "check_seg_target",
    "check_slic_distances",
    "grade",
    "load_student_file",
    "run_check",
]


# --------------------------------------------------------------------------- #
# Results
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


# --------------------------------------------------------------------------- #
# The engine
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Mistake:
    """A known wrong answer: ``fn`` computes it (same signature as the student's function), ``hint`` says what to do instead."""

    name: str
    fn: Callable
    hint: str


@dataclass(frozen=True)
class _Case:
    args: tuple
    text: str


@dataclass(frozen=True)
class Exercise:
    """One auto-checked exercise: where it lives, what the reader writes, and how it is checked.

    ``chapter`` is the notebook's stem, ``function`` the name the reader
    defines (``"my_cam"``), ``signature`` how it is called, ``title`` one line.
    ``reference`` computes the right answer (same signature), ``mistakes`` the
    known wrong ones; ``checker`` is the public ``check_…`` function.
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
    checker: Callable | None = field(default=None, compare=False)


class _WrongType(Exception):
    pass


_GENERIC_ERROR_HINTS = (
    ("must match the size of tensor", "the shapes do not fit together: print the shape of every input and intermediate result."),
    ("could not be broadcast", "the shapes do not fit together: print the shape of every input and intermediate result."),
    ("shapes cannot be multiplied", "the shapes do not fit together: print the shape of every input and intermediate result."),
    ("is not defined", "a name is missing: import it (for example `import numpy as np`) or define it in the same cell."),
)


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


def _case(**named) -> _Case:
    return _Case(tuple(named.values()), ", ".join(_describe(k, v) for k, v in named.items()))


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


def _numbers(value, what: str) -> np.ndarray:
    """A result as a float64 array; ``_WrongType`` with a readable reason otherwise."""
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


def _matching_mistake(ex: Exercise, got: np.ndarray, expected: np.ndarray, case: _Case) -> Mistake | None:
    for mistake in ex.mistakes:
        try:
            wrong = _numbers(_quiet_call(mistake.fn, case.args), "")
        except Exception:  # a mistake that cannot run on these inputs cannot match
            continue
        if ex.returns == "scalar" and wrong.size == 1:
            wrong = wrong.reshape(())
        if _close(wrong, expected, ex):
            continue  # indistinguishable from the right answer on this case
        if _close(got, wrong, ex):
            return mistake
    return None


@dataclass(frozen=True)
class _Outcome:
    """What the student's function did with one case's inputs: everything a verdict needs, and nothing else.

    ``kind`` is ``"value"`` (``got`` holds the result as float64 numbers),
    ``"none"``, ``"not_tensor"`` (``text`` is the type returned),
    ``"wrong_type"`` (``text`` says why it is not numbers), ``"raised"``
    (``error_type`` and ``text``, the exception's ``str``),
    ``"not_implemented"`` or ``"exited"`` (``text`` is the code given to
    ``sys.exit``). It is plain data so that the command line can call the
    function in a child process and judge the outcome in its own (see
    :mod:`tutorial_utils._grader`).
    """

    kind: str
    got: np.ndarray | None = None
    text: str = ""
    error_type: str = ""


def _safe_str(value) -> str:
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


def _inspect(ex: Exercise, fn) -> tuple[str, str, str]:
    """``(name, status, type name)`` of a student's function; status ``"function"``, ``"not_callable"`` or ``"stub"``."""
    name = _function_name(ex, fn)
    if not callable(fn):
        return name, "not_callable", type(fn).__name__
    if _is_stub(fn):
        return name, "stub", ""
    return name, "function", ""


def _missing(ex: Exercise) -> CheckResult:
    return CheckResult(ex.id, False, f"{ex.function} is not attempted: no function of that name is defined.", attempted=False)


def _before_calling(ex: Exercise, name: str, status: str, type_name: str) -> CheckResult | None:
    """The verdict on a function that is not worth calling (not a function, still the stub), else ``None``."""
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


def _call(ex: Exercise, fn, case: _Case) -> _Outcome:
    """Call the student's ``fn`` on one case (on a copy of its inputs) and say what happened; never raises but for Ctrl-C.

    ``SystemExit`` counts as a failure like any other exception: a function
    that calls ``sys.exit`` must not end the notebook's cell, or the grader.
    """
    try:
        out = _quiet_call(fn, case.args)
    except NotImplementedError:
        return _Outcome("not_implemented")
    except KeyboardInterrupt:
        raise
    except SystemExit as err:
        code = err.code
        return _Outcome("exited", text="" if code is None else repr(code) if isinstance(code, str) else _safe_str(code))
    except BaseException as err:  # noqa: BLE001 — the student's code: report, never propagate
        return _Outcome("raised", text=_safe_str(err), error_type=type(err).__name__)
    if out is None:
        return _Outcome("none")
    if ex.returns == "tensor" and not isinstance(out, torch.Tensor):
        return _Outcome("not_tensor", text=type(out).__name__)
    what = "expected a number." if ex.returns == "scalar" else "expected a NumPy array or a torch tensor."
    try:
        return _Outcome("value", got=_numbers(out, what))
    except _WrongType as err:
        return _Outcome("wrong_type", text=str(err))
    except KeyboardInterrupt:
        raise
    except BaseException as err:  # noqa: BLE001 — an object of the student's that fails to convert
        return _Outcome("wrong_type", text=f"it returned a {type(out).__name__} that cannot be read as numbers "
                                           f"({type(err).__name__}); {what}")


def _judge(ex: Exercise, name: str, case: _Case, expected: np.ndarray, outcome: _Outcome) -> CheckResult | None:
    """The verdict on one case: ``None`` when the outcome is the right answer, else the result to report."""

    def fail(message: str, details: Sequence[str] = ()) -> CheckResult:
        return CheckResult(ex.id, False, f"{name} is not right yet: {message}", tuple(details))

    inputs = f"called with {case.text}"
    if outcome.kind == "not_implemented":
        return CheckResult(ex.id, False, f"{name} is not attempted yet: it raises NotImplementedError.", attempted=False)
    if outcome.kind == "exited":
        return fail(f"it called sys.exit({outcome.text}), which ends the whole program ({inputs}). "
                    "Hand the result back with `return`.")
    if outcome.kind == "raised":
        error = outcome.text
        text = error.strip().splitlines()[0].rstrip(".") if error.strip() else ""
        message = f"it raised {outcome.error_type}" + (f": {text}" if text else "") + f" ({inputs})."
        for needle, hint in ex.error_hints + _GENERIC_ERROR_HINTS:
            if needle in error or needle == outcome.error_type:
                message += f" Hint: {hint}"
                break
        return fail(message)
    if outcome.kind == "none":
        return fail(f"it returned None, when {inputs}. Did you forget the `return`?")
    if outcome.kind == "not_tensor":
        return fail(
            f"it returned a {outcome.text}, but the model takes a torch tensor: "
            "build it with `torch.from_numpy(...)` (or torch operations) and return that.",
            (inputs,),
        )
    if outcome.kind == "wrong_type":
        return fail(outcome.text, (inputs,))
    got = outcome.got
    if ex.returns == "scalar" and got.size == 1:
        got = got.reshape(())
    mistake = _matching_mistake(ex, got, expected, case)
    details = (inputs,)
    if got.shape != expected.shape:
        lead = f"it returned {_shape(got)}; the right answer has {_shape(expected)}"
        if mistake is not None:
            return CheckResult(ex.id, False, f"{name} is not right yet ({mistake.name}): {lead} — {mistake.hint}", details)
        return fail(f"{lead}{_shape_hint(got.shape, expected.shape)}.", details)
    if _close(got, expected, ex):
        return None
    if mistake is not None:
        return CheckResult(ex.id, False, f"{name} is not right yet ({mistake.name}): {mistake.hint}", details)
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if bad.any():
        return fail(
            f"it returned NaN or infinite values at {int(bad.sum())} of {got.size} positions, where the right "
            "answer is finite. Look for a division by zero.",
            details,
        )
    message, extra = _generic_difference(got, expected, ex)
    return fail(message, details + extra)


def _expected(ex: Exercise, case: _Case) -> np.ndarray:
    return _numbers(_quiet_call(ex.reference, case.args), "")


def _passed(ex: Exercise, name: str, n_cases: int) -> CheckResult:
    return CheckResult(ex.id, True, f"{name} is right: it matches {ex.reference_name} on {n_cases} test inputs.")


def _check(ex: Exercise, fn) -> CheckResult:
    """Run exercise ``ex`` on the student's ``fn``: the shared engine behind every ``check_…``.

    Three steps, kept apart so that ``python -m tutorial_utils check`` can run
    the middle one — the only one that runs the student's code — in a child
    process: :func:`_inspect` the function, :func:`_call` it on each case, and
    :func:`_judge` each outcome against the reference.
    """
    name, status, type_name = _inspect(ex, fn)
    early = _before_calling(ex, name, status, type_name)
    if early is not None:
        return early
    cases = ex.cases()
    for case in cases:
        expected = _expected(ex, case)  # before the student's code runs on this case
        verdict = _judge(ex, name, case, expected, _call(ex, fn, case))
        if verdict is not None:
            return verdict
    return _passed(ex, name, len(cases))


def _run(exercise_id: str, fn, strict: bool) -> CheckResult:
    result = _check(EXERCISES[exercise_id], fn)
    if strict and not result.passed:
        raise ExerciseFailed(str(result))
    return result


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _t(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


# --------------------------------------------------------------------------- #
# 01 — preprocessing
# --------------------------------------------------------------------------- #


def _pre_parts(image, mean, std):
    x = torch.from_numpy(np.ascontiguousarray(image)).float()  # H×W×3, 0…255
    return x, torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32)


def _preprocess_reference(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    x = x.permute(2, 0, 1) / 255
    return ((x - m.view(3, 1, 1)) / s.view(3, 1, 1))[None]


def _pre_no_255(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x.permute(2, 0, 1) - m.view(3, 1, 1)) / s.view(3, 1, 1))[None]


def _pre_no_batch(image, mean, std):
    return _preprocess_reference(image, mean, std)[0]


def _pre_channels_last(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x / 255 - m) / s)[None]


def _pre_reshape(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    x = x.reshape(3, x.shape[0], x.shape[1]) / 255
    return ((x - m.view(3, 1, 1)) / s.view(3, 1, 1))[None]


def _pre_bgr(image, mean, std):
    return _preprocess_reference(np.ascontiguousarray(image[..., ::-1]), mean, std)


def _pre_swapped(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x.permute(2, 0, 1) / 255 - s.view(3, 1, 1)) / m.view(3, 1, 1))[None]


def _pre_times_std(image, mean, std):
    x, m, s = _pre_parts(image, mean, std)
    return ((x.permute(2, 0, 1) / 255 - m.view(3, 1, 1)) * s.view(3, 1, 1))[None]


def _pre_no_normalise(image, mean, std):
    x, _, _ = _pre_parts(image, mean, std)
    return (x.permute(2, 0, 1) / 255)[None]


def _preprocess_cases():
    rng = _rng(1)
    return [
        _case(image=rng.integers(0, 256, (5, 7, 3), dtype=np.uint8), mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)),
        _case(image=rng.integers(0, 256, (4, 3, 3), dtype=np.uint8), mean=(0.3, 0.5, 0.7), std=(0.2, 0.25, 0.4)),
    ]


_PREPROCESS = Exercise(
    id="preprocess",
    chapter="01_first_look",
    function="my_preprocess",
    signature="my_preprocess(image, mean, std)",
    title="turn an image into the network's input tensor",
    reference_name="the normalisation of model.preprocess (without its resize)",
    reference=_preprocess_reference,
    cases=_preprocess_cases,
    returns="tensor",
    mistakes=(
        Mistake("forgot to divide by 255", _pre_no_255,
                "the pixels are 0…255, but mean and std are for values in [0, 1]: divide by 255 first."),
        Mistake("no batch dimension", _pre_no_batch,
                "the network takes a batch: add the batch dimension with `x[None]` or `x.unsqueeze(0)`."),
        Mistake("channels last", _pre_channels_last,
                "an image is H×W×3 but the network wants 3×H×W: move the channel axis with `permute(2, 0, 1)`."),
        Mistake("reshape instead of permute", _pre_reshape,
                "`reshape` (or `view`) to 3×H×W keeps the memory order, so the numbers land in the wrong places; "
                "use `permute(2, 0, 1)`."),
        Mistake("channels reversed (BGR)", _pre_bgr,
                "the channels come out in the order B, G, R: keep the image's R, G, B order (see the OpenCV pitfall)."),
        Mistake("mean and std swapped", _pre_swapped,
                "subtract the mean and divide by the standard deviation: `(x - mean) / std`."),
        Mistake("multiplied by std", _pre_times_std,
                "divide by the standard deviation, do not multiply: `(x - mean) / std`."),
        Mistake("not normalised", _pre_no_normalise,
                "after dividing by 255, subtract the mean and divide by the standard deviation, channel by channel."),
    ),
    error_hints=(
        ("has no attribute 'permute'", "the image is a NumPy array: make a tensor first, `torch.from_numpy(image)`."),
        ("unsupported operand", "mean and std are tuples: make tensors of them, `torch.tensor(mean).view(3, 1, 1)`."),
    ),
)


def check_preprocess(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_preprocess(image, mean, std)``: :math:`x = (\text{pixel}/255 - \mu)/\sigma`, as a ``1×3×H×W`` tensor.

    ``image`` is an RGB ``uint8`` array ``H×W×3``; ``mean`` and ``std`` are
    tuples of three numbers (``model.mean``, ``model.std``). The function must
    return a float tensor of shape ``(1, 3, H, W)`` — what ``model.preprocess``
    does, without the resize.

    >>> def my_preprocess(image, mean, std):
    ...     x = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    ...     return ((x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1))[None]
    >>> check_preprocess(my_preprocess).passed
    True

    Never raises for a wrong answer unless ``strict=True``: then it raises
    :class:`ExerciseFailed` with the message.
    """
    return _run("preprocess", fn, strict)


# --------------------------------------------------------------------------- #
# 02 — the head: GAP + one linear layer
# --------------------------------------------------------------------------- #


def _head_reference(f, W, b):
    return f.mean(dim=(2, 3)) @ W.T + b


def _head_cases():
    rng = _rng(2)

    def case(B, K, classes, h, w):
        return _case(f=_t(2 * rng.random((B, K, h, w))), W=_t(rng.normal(size=(classes, K))),
                     b=_t(rng.normal(size=classes)))

    return [case(2, 6, 6, 3, 4), case(3, 8, 5, 4, 3), case(1, 4, 9, 2, 5)]


_HEAD = Exercise(
    id="head",
    chapter="02_inside_resnet50",
    function="my_head",
    signature="my_head(f, W, b)",
    title="the head: global average pooling and one linear layer",
    reference_name="the model's head (global average pooling, then the linear layer)",
    reference=_head_reference,
    cases=_head_cases,
    mistakes=(
        Mistake("forgot the bias", lambda f, W, b: f.mean(dim=(2, 3)) @ W.T,
                "the logits are `S_c = Σ_k w_k^c F_k + b_c`: add `b`."),
        Mistake("sum instead of mean", lambda f, W, b: f.sum(dim=(2, 3)) @ W.T + b,
                "global *average* pooling: `f.mean(dim=(2, 3))` — the sum is h·w times larger."),
        Mistake("max instead of mean", lambda f, W, b: f.amax(dim=(2, 3)) @ W.T + b,
                "global average pooling takes the mean of each feature map, not its maximum."),
        Mistake("transposed weights", lambda f, W, b: f.mean(dim=(2, 3)) @ W + b,
                "W is classes × K: multiply the pooled features by `W.T` (`F @ W.T`, or `W @ F` for one vector)."),
        Mistake("first image only", lambda f, W, b: (f.mean(dim=(2, 3)) @ W.T + b)[0],
                "return one row of logits per image, shape B × classes: do not index `[0]`."),
        Mistake("pooled over the batch too", lambda f, W, b: f.mean(dim=(0, 2, 3)) @ W.T + b,
                "average over the positions only, `dim=(2, 3)`, not over the images as well."),
    ),
    error_hints=(
        ("mat1 and mat2", "W is classes × K, so the pooled features F (B × K) multiply `W.T`."),
    ),
)


def check_head(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_head(f, W, b)``: :math:`F_k = \frac{1}{hw}\sum_{x,y} f_k(x,y)`, :math:`S_c = \sum_k w_k^c F_k + b_c`.

    ``f`` is a tensor ``B×K×h×w`` (feature maps), ``W`` the weights
    ``classes×K`` and ``b`` the bias ``classes``; the function returns the
    logits, ``B×classes``, as ``model.classify`` does.

    >>> check_head(lambda f, W, b: f.mean(dim=(2, 3)) @ W.T + b).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("head", fn, strict)


# --------------------------------------------------------------------------- #
# 03 — CAM
# --------------------------------------------------------------------------- #


def _cam_reference(f, W, c):
    from .cam import class_activation_map

    return class_activation_map(f, W, c)


def _cam_raw(f, W, c):
    return (W[c][:, None, None] * f[0]).sum(dim=0)


def _cam_minmax(f, W, c):
    M = _cam_raw(f, W, c)
    return (M - M.min()) / (M.max() - M.min())


def _cam_cases():
    rng = _rng(3)

    def case(K, classes, h, w, c):
        return _case(f=_t(2 * rng.random((1, K, h, w))), W=_t(rng.normal(size=(classes, K))), c=c)

    return [case(6, 6, 4, 5, 2), case(8, 10, 5, 6, 3), case(5, 3, 3, 3, 2)]


_CAM = Exercise(
    id="cam",
    chapter="03_cam",
    function="my_cam",
    signature="my_cam(f, W, c)",
    title="your own cam()",
    reference_name="class_activation_map",
    reference=_cam_reference,
    cases=_cam_cases,
    mistakes=(
        Mistake("kept the batch dimension", lambda f, W, c: (W[c][:, None, None] * f).sum(dim=1),
                "the map has no batch dimension: work with `f[0]`, shape K × h × w."),
        Mistake("transposed weights", lambda f, W, c: (W[:, c][:, None, None] * f[0]).sum(dim=0),
                "you used `W[:, c]`, the weights of channel c for every class; the weights of class c are the row `W[c]`."),
        Mistake("summed over the wrong axis", lambda f, W, c: (W[c][:, None, None] * f[0]).sum(dim=1),
                "sum over the channels (axis 0 of `f[0]`), which leaves an h × w map."),
        Mistake("averaged over the channels", lambda f, W, c: (W[c][:, None, None] * f[0]).mean(dim=0),
                "`M_c = Σ_k w_k^c f_k` is a sum over the channels, not a mean."),
        Mistake("divided by the number of cells", lambda f, W, c: _cam_raw(f, W, c) / (f.shape[-2] * f.shape[-1]),
                "no division by h·w: the map's *mean* plus the bias is the logit, the map itself is not averaged."),
        Mistake("applied a ReLU", lambda f, W, c: torch.relu(_cam_raw(f, W, c)),
                "return the raw map: its negative values are evidence against the class, keep them."),
        Mistake("normalised the map", lambda f, W, c: torch.relu(_cam_raw(f, W, c)) / _cam_raw(f, W, c).max(),
                "return the raw map: `normalise` (ReLU, then divide by the maximum) comes later, for drawing."),
        Mistake("min-max scaled the map", _cam_minmax,
                "return the raw map, in the units of the logit: scaling to [0, 1] comes later, for drawing."),
    ),
    error_hints=(
        ("must match the size", "W is classes × K: the weights of class c are the row `W[c]` (K values, one per channel)."),
    ),
)


def check_cam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_cam(f, W, c)``: the class activation map :math:`M_c(x,y) = \sum_k w_k^c f_k(x,y)`.

    ``f`` is a tensor ``1×K×h×w`` (as from ``model.forward_features``), ``W``
    the weights ``classes×K`` (``model.fc_weight``) and ``c`` a class index;
    the function returns the raw ``h×w`` map (NumPy array or tensor), compared
    with :func:`class_activation_map`.

    >>> check_cam(lambda f, W, c: (W[c][:, None, None] * f[0]).sum(dim=0)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("cam", fn, strict)


# --------------------------------------------------------------------------- #
# 04 — the SLIC distance
# --------------------------------------------------------------------------- #


def _slic_reference(image, centres, m, S):
    from .slic import slic_distance

    img = np.asarray(image, dtype=np.float64)
    out = np.empty((len(centres),) + img.shape)
    for k, (ci, r, c) in enumerate(np.asarray(centres, dtype=np.float64)):
        for y in range(img.shape[0]):
            for x in range(img.shape[1]):
                out[k, y, x] = slic_distance([img[y, x]], [ci], (y, x), (r, c), m, S)
    return out


def _slic_terms(image, centres):
    img = np.asarray(image, dtype=np.float64)
    cen = np.asarray(centres, dtype=np.float64)
    rr, cc = np.indices(img.shape)
    d_c2 = (img[None] - cen[:, 0, None, None]) ** 2
    d_xy2 = (rr[None] - cen[:, 1, None, None]) ** 2 + (cc[None] - cen[:, 2, None, None]) ** 2
    return d_c2, d_xy2, rr, cc, cen


def _slic_swapped_axes(image, centres, m, S):
    d_c2, _, rr, cc, cen = _slic_terms(image, centres)
    d_xy2 = (rr[None] - cen[:, 2, None, None]) ** 2 + (cc[None] - cen[:, 1, None, None]) ** 2
    return np.sqrt(d_c2 + (m / S) ** 2 * d_xy2)


def _slic_mistake(formula):
    def wrong(image, centres, m, S):
        d_c2, d_xy2, *_ = _slic_terms(image, centres)
        return formula(d_c2, d_xy2, m, S)

    return wrong


def _slic_cases():
    rng = _rng(4)

    def case(h, w, centres, m):
        image = np.round(rng.uniform(0, 50, (h, w)), 1)
        return _case(image=image, centres=np.array(centres, dtype=np.float64), m=m, S=float(np.sqrt(h * w / len(centres))))

    return [
        case(4, 6, [[12.0, 1.0, 1.5], [30.0, 2.5, 4.25], [45.0, 0.5, 3.0]], 10.0),
        case(5, 4, [[10.0, 1.0, 1.0], [20.0, 1.0, 3.0], [30.0, 3.5, 0.5], [40.0, 3.0, 2.5]], 20.0),
    ]


_SLIC = Exercise(
    id="slic_distances",
    chapter="04_slic",
    function="my_slic_distances",
    signature="my_slic_distances(image, centres, m, S)",
    title="the SLIC distance D from every pixel to every centre",
    reference_name="slic_distance",
    reference=_slic_reference,
    cases=_slic_cases,
    mistakes=(
        Mistake("forgot to divide by S", _slic_mistake(lambda c2, xy2, m, S: np.sqrt(c2 + m**2 * xy2)),
                "the spatial term is `(m / S)**2 * d_xy**2`: dividing by S makes it independent of the image size."),
        Mistake("m and S swapped", _slic_mistake(lambda c2, xy2, m, S: np.sqrt(c2 + (S / m) ** 2 * xy2)),
                "the factor is m/S, with the compactness m on top."),
        Mistake("forgot the square root", _slic_mistake(lambda c2, xy2, m, S: c2 + (m / S) ** 2 * xy2),
                "D is the square root of `d_c**2 + (m / S)**2 * d_xy**2`."),
        Mistake("colour only", _slic_mistake(lambda c2, xy2, m, S: np.sqrt(c2)),
                "add the spatial term (m/S)² d_xy²; without it SLIC is plain colour clustering."),
        Mistake("position only", _slic_mistake(lambda c2, xy2, m, S: np.sqrt((m / S) ** 2 * xy2)),
                "add the colour term d_c² (the intensity difference, squared)."),
        Mistake("m/S not squared", _slic_mistake(lambda c2, xy2, m, S: np.sqrt(c2 + (m / S) * xy2)),
                "square the factor as well: `(m / S)**2 * d_xy**2`."),
        Mistake("d_xy not squared", _slic_mistake(lambda c2, xy2, m, S: np.sqrt(c2 + (m / S) ** 2 * np.sqrt(xy2))),
                "the spatial term uses the squared distance, d_xy² = (row difference)² + (column difference)²."),
        Mistake("rows and columns swapped", _slic_swapped_axes,
                "a centre is (intensity, row, column), and `np.indices(image.shape)` gives rows first: compare rows with rows."),
    ),
)


def check_slic_distances(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_slic_distances(image, centres, m, S)``: :math:`D = \sqrt{d_c^2 + (m/S)^2 d_{xy}^2}` for every centre and pixel.

    ``image`` is a grayscale float array ``H×W``; ``centres`` an array
    ``K×3`` whose rows are (intensity, row, column), as in ``SlicTrace.centres``;
    ``m`` the compactness and ``S`` the grid interval. The function returns
    ``D`` as an array ``K×H×W``, compared with :func:`tutorial_utils.slic.slic_distance`.

    >>> def my_slic_distances(image, centres, m, S):
    ...     rr, cc = np.indices(image.shape)
    ...     return np.stack([np.sqrt((image - i) ** 2 + (m / S) ** 2 * ((rr - r) ** 2 + (cc - c) ** 2))
    ...                      for i, r, c in centres])
    >>> check_slic_distances(my_slic_distances).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("slic_distances", fn, strict)


# --------------------------------------------------------------------------- #
# 05 — SeCAM
# --------------------------------------------------------------------------- #


def _secam_reference(cam, segments):
    from .secam import secam

    return secam(cam, segments)


def _secam_by(reduce):
    def wrong(cam, segments):
        out = np.zeros(np.shape(cam))
        for s in np.unique(segments):
            out[segments == s] = reduce(cam[segments == s])
        return out

    return wrong


def _secam_labels_from(start):
    def wrong(cam, segments):
        out = np.zeros(np.shape(cam))
        n = len(np.unique(segments))
        for s in range(start, start + n):
            if (segments == s).any():
                out[segments == s] = cam[segments == s].mean()
        return out

    return wrong


def _secam_cases():
    rng = _rng(5)
    gaps = np.array([3, 5, 8, 11, 20])
    seg1 = gaps[np.repeat(np.arange(5), 9)[rng.permutation(45)][:42].reshape(6, 7)]
    seg2 = np.repeat(np.repeat(np.array([[0, 1], [2, 3]]), 3, axis=0), 2, axis=1)[:5, :4]
    return [
        _case(cam=rng.normal(size=(6, 7)), segments=seg1),
        _case(cam=rng.normal(size=(5, 4)), segments=seg2),
        _case(cam=rng.normal(size=(3, 4)), segments=np.full((3, 4), 7)),
    ]


_SECAM = Exercise(
    id="secam",
    chapter="05_secam",
    function="my_secam",
    signature="my_secam(cam, segments)",
    title="SeCAM: the map's mean inside each superpixel",
    reference_name="secam",
    reference=_secam_reference,
    cases=_secam_cases,
    mistakes=(
        Mistake("sum instead of mean", _secam_by(np.sum),
                "divide each superpixel's sum by its number of pixels |s|."),
        Mistake("max instead of mean", _secam_by(np.max),
                "SeCAM gives every pixel the *mean* of the map over its superpixel, not the maximum."),
        Mistake("median instead of mean", _secam_by(np.median),
                "SeCAM gives every pixel the *mean* of the map over its superpixel, not the median."),
        Mistake("labels assumed to be 0 … n−1", _secam_labels_from(0),
                "the labels need not be 0 … n−1 (here they have gaps and do not start at 0): loop over "
                "`np.unique(segments)`, or renumber them with `np.unique(segments, return_inverse=True)`."),
        Mistake("labels assumed to start at 1", _secam_labels_from(1),
                "the labels need not be 1 … n (here they have gaps): loop over `np.unique(segments)`, or renumber "
                "them with `np.unique(segments, return_inverse=True)`."),
        Mistake("one value per superpixel", lambda cam, segments: np.array([cam[segments == s].mean() for s in np.unique(segments)]),
                "give every pixel its superpixel's mean: index the means with the pixels' superpixel numbers "
                "(`means[index]`) to paint them back into an H × W map."),
        Mistake("the mean of the whole map", lambda cam, segments: np.full(np.shape(cam), np.mean(cam)),
                "average inside each superpixel separately, not over the whole map."),
    ),
    error_hints=(
        ("negative", "`np.bincount` needs labels 0 … n−1: renumber them with `np.unique(segments, return_inverse=True)`."),
    ),
)


def check_secam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_secam(cam, segments)``: :math:`S_c(s) = \frac{1}{|s|} \sum_{(x, y) \in s} M_c(x, y)` painted on every pixel of ``s``.

    ``cam`` is a float array ``H×W``, ``segments`` an integer label array of the
    same shape whose labels may have gaps and need not start at 0. The function
    returns an ``H×W`` array, compared with :func:`secam`.

    >>> def my_secam(cam, segments):
    ...     _, index = np.unique(segments, return_inverse=True)
    ...     index = index.reshape(segments.shape)
    ...     return (np.bincount(index.ravel(), cam.ravel()) / np.bincount(index.ravel()))[index]
    >>> check_secam(my_secam).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("secam", fn, strict)


# --------------------------------------------------------------------------- #
# 06 — Grad-CAM from activations and gradients
# --------------------------------------------------------------------------- #


def _gc_np(A, dA):
    return np.asarray(A, dtype=np.float64), np.asarray(dA, dtype=np.float64)


def _grad_cam_reference(A, dA):
    A, dA = _gc_np(A, dA)
    alpha = dA.mean(axis=(1, 2))  # α_k = (1/Z) Σ_ij ∂y^c/∂A^k_ij
    return np.maximum(np.einsum("k,khw->hw", alpha, A), 0)


def _gc_mistake(formula):
    def wrong(A, dA):
        return formula(*_gc_np(A, dA))

    return wrong


def _grad_cam_cases():
    rng = _rng(6)
    return [
        _case(A=_t(rng.random((5, 3, 4))), dA=_t(rng.normal(size=(5, 3, 4)))),
        _case(A=_t(rng.random((4, 5, 2))), dA=_t(rng.normal(size=(4, 5, 2)))),
    ]


def _relu(x):
    return np.maximum(x, 0)


_GRAD_CAM = Exercise(
    id="grad_cam",
    chapter="06_grad_cam",
    function="my_grad_cam",
    signature="my_grad_cam(A, dA)",
    title="Grad-CAM from activations and gradients",
    reference_name="Grad-CAM, ReLU(Σ_k α_k A^k)",
    reference=_grad_cam_reference,
    cases=_grad_cam_cases,
    mistakes=(
        Mistake("forgot the ReLU", _gc_mistake(lambda A, dA: np.einsum("k,khw->hw", dA.mean(axis=(1, 2)), A)),
                "Grad-CAM keeps only the positive part: apply a ReLU to the weighted sum."),
        Mistake("element-wise product, then ReLU: that is ReLU(HiResCAM)", _gc_mistake(lambda A, dA: _relu((dA * A).sum(0))),
                "Grad-CAM first averages each gradient map to one weight α_k = mean of dA[k], then weighs A[k] with it."),
        Mistake("element-wise product: that is HiResCAM", _gc_mistake(lambda A, dA: (dA * A).sum(0)),
                "Grad-CAM first averages each gradient map to one weight α_k = mean of dA[k], weighs A[k] with it, "
                "and applies a ReLU."),
        Mistake("summed the gradients instead of averaging", _gc_mistake(lambda A, dA: _relu(np.einsum("k,khw->hw", dA.sum(axis=(1, 2)), A))),
                "α_k is the *mean* of the gradient over the Z = h·w positions: `dA.mean(dim=(1, 2))`."),
        Mistake("A and dA swapped", _gc_mistake(lambda A, dA: _relu(np.einsum("k,khw->hw", A.mean(axis=(1, 2)), dA))),
                "average the *gradients* dA to get the weights, and weigh the *activations* A with them."),
        Mistake("averaged over the channels instead of summing", _gc_mistake(lambda A, dA: _relu(np.einsum("k,khw->hw", dA.mean(axis=(1, 2)), A) / A.shape[0])),
                "the map is the *sum* over the channels k of α_k A^k, not the mean."),
        Mistake("averaged the gradient over the channels instead of the positions", _gc_mistake(lambda A, dA: _relu(dA.mean(axis=0) * A.sum(0))),
                "α_k averages dA[k] over the positions (axes 1 and 2), giving one weight per channel."),
        Mistake("ReLU on the weights instead of the map", _gc_mistake(lambda A, dA: np.einsum("k,khw->hw", _relu(dA.mean(axis=(1, 2))), A)),
                "weigh with α_k as it is (negative weights included), and apply the ReLU to the weighted sum."),
    ),
)


def check_grad_cam(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_grad_cam(A, dA)``: :math:`\alpha_k = \frac{1}{Z}\sum_{i,j} \partial y^c/\partial A^k_{ij}`, :math:`L = \mathrm{ReLU}(\sum_k \alpha_k A^k)`.

    ``A`` (activations) and ``dA`` (their gradients :math:`\partial y^c/\partial A`)
    are tensors ``K×h×w`` for one image; the function returns the ``h×w``
    Grad-CAM map, compared with the formula that :func:`grad_cam` applies.

    >>> check_grad_cam(lambda A, dA: torch.relu((dA.mean(dim=(1, 2))[:, None, None] * A).sum(0))).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("grad_cam", fn, strict)


# --------------------------------------------------------------------------- #
# 07 — the guided ReLU backward rule
# --------------------------------------------------------------------------- #


def _guided_reference(z, R):
    """The backward pass of the library's own guided ReLU (gradients.GuidedReLUFunction)."""
    from .gradients import GuidedReLUFunction

    z = z.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(GuidedReLUFunction.apply(z, None), z, R)
    return grad


def _guided_cases():
    rng = _rng(7)
    z2 = np.array([[0.0, 1.5, -0.5, 0.0], [2.0, 0.0, -1.0, 0.7]])
    R2 = np.array([[3.0, 0.0, 2.0, 1.0], [-1.5, 2.5, 0.5, 0.0]])
    return [
        _case(z=_t(rng.normal(size=(3, 4))), R=_t(rng.normal(size=(3, 4)))),
        _case(z=_t(z2), R=_t(R2)),
        _case(z=_t(np.array([-1.0, 2.0, 3.0, 0.5])), R=_t(np.array([5.0, -4.0, 1.0, 2.0]))),
    ]


_GUIDED = Exercise(
    id="guided_relu_grad",
    chapter="07_guided_backprop",
    function="my_guided_relu_grad",
    signature="my_guided_relu_grad(z, R)",
    title="the backward rule of a guided ReLU",
    reference_name="the guided rule [z > 0] [R > 0] R",
    reference=_guided_reference,
    cases=_guided_cases,
    mistakes=(
        Mistake("plain backpropagation", lambda z, R: torch.where(z > 0, R, torch.zeros_like(R)),
                "that is the plain rule [z > 0] R: guided backpropagation also drops the negative incoming gradients, [R > 0]."),
        Mistake("the deconvnet rule", lambda z, R: torch.where(R > 0, R, torch.zeros_like(R)),
                "that is the deconvnet rule [R > 0] R: guided backpropagation also stops the gradient of inactive units, [z > 0]."),
        Mistake("no mask", lambda z, R: R.clone(),
                "keep R only where the unit was active (z > 0) *and* the incoming gradient is positive (R > 0)."),
        Mistake("masks joined with or", lambda z, R: torch.where((z > 0) | (R > 0), R, torch.zeros_like(R)),
                "both conditions must hold: [z > 0] *and* [R > 0]."),
        Mistake("returned z instead of R", lambda z, R: torch.where((z > 0) & (R > 0), z, torch.zeros_like(z)),
                "the rule passes the incoming gradient R, not the forward input z."),
        Mistake("returned the mask", lambda z, R: ((z > 0) & (R > 0)).float(),
                "multiply the mask by R: return the gradient, not the 0/1 mask."),
        Mistake("z ≥ 0 instead of z > 0", lambda z, R: torch.where((z >= 0) & (R > 0), R, torch.zeros_like(R)),
                "a unit with z = 0 is inactive (ReLU's gradient at 0 is 0 in PyTorch): use z > 0."),
    ),
)


def check_guided_relu_grad(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_guided_relu_grad(z, R)``: the guided rule :math:`R^{l} = [z > 0]\,[R^{l+1} > 0]\,R^{l+1}`.

    ``z`` is the ReLU's input and ``R`` the incoming gradient :math:`R^{l+1}`,
    tensors of the same shape; the function returns :math:`R^l`, same shape.

    >>> check_guided_relu_grad(lambda z, R: torch.where((z > 0) & (R > 0), R, 0.0)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("guided_relu_grad", fn, strict)


# --------------------------------------------------------------------------- #
# 08 — the Seg-Grad-CAM target
# --------------------------------------------------------------------------- #


def _seg_reference(logits, c):
    M = logits.argmax(dim=1)[0] == c
    return logits[0, c][M].sum()


def _seg_cases():
    rng = _rng(8)
    absent = rng.normal(size=(1, 4, 4, 5)) * 2
    absent[0, 3] -= 10  # class 3 wins nowhere
    return [
        _case(logits=_t(rng.normal(size=(1, 4, 5, 6)) * 2), c=2),
        _case(logits=_t(absent), c=3),
        _case(logits=_t(rng.normal(size=(1, 3, 4, 4)) * 2), c=0),
    ]


_SEG = Exercise(
    id="seg_target",
    chapter="08_segmentation",
    function="my_seg_target",
    signature="my_seg_target(logits, c)",
    title="the Seg-Grad-CAM target",
    reference_name="the target Σ_(i,j)∈M y^c_ij of seg_grad_cam",
    reference=_seg_reference,
    cases=_seg_cases,
    returns="scalar",
    mistakes=(
        Mistake("mean instead of sum", lambda logits, c: logits[0, c][logits.argmax(dim=1)[0] == c].mean(),
                "the target is the *sum* over M, not the mean (a larger region gives a larger target: see the pitfalls)."),
        Mistake("no mask", lambda logits, c: logits[0, c].sum(),
                "sum only over M, the pixels predicted as c: `logits.argmax(1)[0] == c`."),
        Mistake("every class summed", lambda logits, c: logits[0][:, logits.argmax(dim=1)[0] == c].sum(),
                "take class c's logits only, `logits[0, c]`, at the pixels of M."),
        Mistake("probabilities instead of logits", lambda logits, c: logits.softmax(dim=1)[0, c][logits.argmax(dim=1)[0] == c].sum(),
                "sum the logits y^c_ij themselves, not the softmax probabilities."),
        Mistake("mask from positive logits", lambda logits, c: logits[0, c][logits[0, c] > 0].sum(),
                "M is where class c wins the argmax over the classes, not where its logit is positive."),
        Mistake("did not sum", lambda logits, c: logits[0, c][logits.argmax(dim=1)[0] == c],
                "add up the selected logits with `.sum()`: the target is one number."),
    ),
)


def check_seg_target(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_seg_target(logits, c)``: :math:`y^c = \sum_{(i,j) \in M} y^c_{ij}` with :math:`M = \{(i,j) : \arg\max_{c'} y^{c'}_{ij} = c\}`.

    ``logits`` is a tensor ``1×classes×H×W`` (a segmentation network's output)
    and ``c`` a class; the function returns one number (a 0-d tensor, so that
    it can be differentiated). A class predicted nowhere gives 0, the sum over nothing.

    >>> check_seg_target(lambda logits, c: logits[0, c][logits.argmax(1)[0] == c].sum()).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("seg_target", fn, strict)


# --------------------------------------------------------------------------- #
# 09 — one step of the regularised gradient ascent
# --------------------------------------------------------------------------- #


def _ascent(img, grad, step_size, decay, *, norm="mean", sign=1.0, clip=True, grey=0.5, order="step-decay-clip"):
    x, g = img.clone(), grad
    if norm == "mean":
        g = g / (g.abs().mean() + 1e-12)
    elif norm == "max":
        g = g / g.abs().max()
    elif norm == "signed":
        g = g / g.mean()
    step = sign * step_size * g
    for part in order.split("-"):
        if part == "step":
            x = x + step
        elif part == "decay":
            x = grey + (x - grey) * (1 - decay)
        elif part == "clip" and clip:
            x = x.clamp(0.0, 1.0)
    return x


def _ascent_reference(img, grad, step_size, decay):
    from .featurevis import ascent_step

    return ascent_step(img, grad, step_size, decay).clamp(0.0, 1.0)  # the library's own step


def _ascent_cases():
    rng = _rng(9)
    img = rng.uniform(0.1, 0.9, (1, 3, 4, 5))
    grad = rng.normal(size=(1, 3, 4, 5)) * 0.3
    img[0, 0, 0, :3], grad[0, 0, 0, :3] = 0.99, [0.5, 0.8, 0.3]  # pushed past 1: clipping matters
    img[0, 1, 3, :2], grad[0, 1, 3, :2] = 0.01, [-0.6, -0.4]  # pushed below 0
    img2 = rng.uniform(0.0, 1.0, (1, 3, 3, 3))
    grad2 = rng.normal(size=(1, 3, 3, 3)) * 2.0
    return [
        _case(img=_t(img), grad=_t(grad), step_size=0.05, decay=0.1),
        _case(img=_t(img2), grad=_t(grad2), step_size=0.01, decay=0.0),
        _case(img=_t(rng.uniform(0.2, 0.8, (1, 3, 2, 4))), grad=_t(rng.normal(size=(1, 3, 2, 4))), step_size=0.2, decay=0.3),
    ]


_ASCENT = Exercise(
    id="ascent_step",
    chapter="09_feature_visualisation",
    function="my_ascent_step",
    signature="my_ascent_step(img, grad, step_size, decay)",
    title="one step of the regularised gradient ascent",
    reference_name="the step of activation_maximisation (without blur and jitter)",
    reference=_ascent_reference,
    cases=_ascent_cases,
    mistakes=(
        Mistake("no normalisation", lambda i, g, s, d: _ascent(i, g, s, d, norm=None),
                "divide the gradient by its mean absolute value, `grad.abs().mean()`, so that η is the mean change per pixel."),
        Mistake("divided by the largest |g|", lambda i, g, s, d: _ascent(i, g, s, d, norm="max"),
                "divide by the *mean* absolute gradient, `grad.abs().mean()`, not the maximum."),
        Mistake("divided by mean(g) instead of mean(|g|)", lambda i, g, s, d: _ascent(i, g, s, d, norm="signed"),
                "take the absolute value before the mean: `grad.abs().mean()`."),
        Mistake("descent instead of ascent", lambda i, g, s, d: _ascent(i, g, s, d, sign=-1.0),
                "*add* the normalised gradient: we climb the class logit."),
        Mistake("no clipping", lambda i, g, s, d: _ascent(i, g, s, d, clip=False),
                "clip the pixels to [0, 1] at the end: `.clamp(0, 1)`."),
        Mistake("decay towards 0 instead of grey", lambda i, g, s, d: _ascent(i, g, s, d, grey=0.0),
                "decay towards grey: `0.5 + (x - 0.5) * (1 - decay)`."),
        Mistake("decay before the step", lambda i, g, s, d: _ascent(i, g, s, d, order="decay-step-clip"),
                "take the gradient step first, then decay towards grey, then clip."),
        Mistake("clipped before the decay", lambda i, g, s, d: _ascent(i, g, s, d, order="step-clip-decay"),
                "take the gradient step, decay towards grey, and clip last."),
        Mistake("forgot the decay", lambda i, g, s, d: _ascent(i, g, s, 0.0),
                "after the step, pull every pixel towards grey: `0.5 + (x - 0.5) * (1 - decay)`."),
    ),
)


def check_ascent_step(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_ascent_step(img, grad, step_size, decay)``: :math:`x \leftarrow x + \eta\,\nabla_x y^c / \operatorname{mean}|\nabla_x y^c|`, then decay and clip.

    ``img`` is the image in ``[0, 1]`` and ``grad`` the gradient
    :math:`\nabla_x y^c`, tensors ``1×3×H×W``; ``step_size`` is :math:`\eta`.
    The function takes the normalised step, decays towards grey,
    :math:`x \leftarrow 0.5 + (x - 0.5)(1 - \text{decay})`, clips to ``[0, 1]``
    and returns the new image — one step of :func:`activation_maximisation`
    without blur and jitter.

    >>> def my_ascent_step(img, grad, step_size, decay):
    ...     x = img + step_size * grad / grad.abs().mean()
    ...     return (0.5 + (x - 0.5) * (1 - decay)).clamp(0, 1)
    >>> check_ascent_step(my_ascent_step).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("ascent_step", fn, strict)


# --------------------------------------------------------------------------- #
# 10 — the share of positive mass on a region
# --------------------------------------------------------------------------- #


def _mass_reference(heatmap, mask):
    from .maps import positive_mass_share

    return positive_mass_share(heatmap, mask)


def _mass_cases():
    rng = _rng(10)
    return [
        _case(heatmap=rng.normal(size=(5, 6)), mask=rng.random((5, 6)) < 0.3),
        _case(heatmap=-np.abs(rng.normal(size=(4, 4))), mask=rng.random((4, 4)) < 0.5),
        _case(heatmap=rng.normal(size=(3, 5)) + 0.5, mask=np.eye(3, 5, dtype=bool)),
    ]


_MASS = Exercise(
    id="mass_share",
    chapter="10_shortcut",
    function="my_mass_share",
    signature="my_mass_share(heatmap, mask)",
    title="the share of a map's positive mass on a region",
    reference_name="positive_mass_share",
    reference=_mass_reference,
    cases=_mass_cases,
    returns="scalar",
    mistakes=(
        # First: on a map with no positive value several mistakes give NaN, and this is the one to name.
        Mistake("NaN for a map with no positive value", lambda M, R: np.maximum(M, 0)[R].sum() / np.maximum(M, 0).sum(),
                "a map with no positive value has no positive mass: return 0 there, not 0/0 = NaN "
                "(test `if total == 0`, as positive_mass_share does)."),
        Mistake("negatives not clipped", lambda M, R: M[R].sum() / M.sum(),
                "take the positive part first, M⁺ = max(M, 0): negative evidence must not cancel positive evidence."),
        Mistake("absolute values", lambda M, R: np.abs(M)[R].sum() / np.abs(M).sum(),
                "use the positive part max(M, 0), not |M|: negative values are evidence *against* the class."),
        Mistake("mean inside the region", lambda M, R: np.maximum(M, 0)[R].mean(),
                "divide by the total positive mass Σ M⁺ over the whole map, not by the number of pixels in R."),
        Mistake("the area of the region", lambda M, R: R.mean(),
                "that is the share of the *area*, what a map spread evenly would score; weigh the pixels by M⁺."),
        Mistake("counted positive pixels", lambda M, R: ((M > 0) & R).sum() / (M > 0).sum(),
                "sum the values of M⁺, do not count the positive pixels."),
        Mistake("inside over outside", lambda M, R: np.maximum(M, 0)[R].sum() / np.maximum(M, 0)[~R].sum(),
                "divide by the total positive mass, inside and outside R together."),
    ),
)


def check_mass_share(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_mass_share(heatmap, mask)``: :math:`\text{share}(R) = \sum_{(x,y)\in R} M^+(x,y) / \sum_{x,y} M^+(x,y)`.

    ``heatmap`` is a float array ``H×W``, ``mask`` a boolean array of the same
    shape (the region :math:`R`); :math:`M^+ = \max(M, 0)`. The function returns
    one number; a map with no positive value scores 0, never NaN — as
    :func:`positive_mass_share`.

    >>> def my_mass_share(heatmap, mask):
    ...     positive = np.maximum(heatmap, 0)
    ...     total = positive.sum()
    ...     return positive[mask].sum() / total if total > 0 else 0.0
    >>> check_mass_share(my_mass_share).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("mass_share", fn, strict)


# --------------------------------------------------------------------------- #
# 11 — Average Drop
# --------------------------------------------------------------------------- #


def _ad_reference(Y, O):
    from .metrics import average_drop

    return average_drop(Y, O)


def _ad_cases():
    return [
        _case(Y=np.array([0.9, 0.6, 0.75, 0.3, 0.5]), O=np.array([0.4, 0.7, 0.2, 0.35, 0.1])),
        _case(Y=np.array([0.8, 0.45, 0.6]), O=np.array([0.6, 0.05, 0.9])),
    ]


_AD = Exercise(
    id="average_drop",
    chapter="11_faithfulness",
    function="my_average_drop",
    signature="my_average_drop(Y, O)",
    title="Average Drop",
    reference_name="average_drop",
    reference=_ad_reference,
    cases=_ad_cases,
    returns="scalar",
    mistakes=(
        Mistake("forgot max(0, ·)", lambda Y, O: 100 * np.mean((Y - O) / Y),
                "an image whose probability *rises* counts as a drop of 0: use `np.maximum(0, Y - O)`."),
        Mistake("max(0, O − Y): the rise, not the drop", lambda Y, O: 100 * np.mean(np.maximum(0, O - Y) / Y),
                "the drop is Y − O, the full image's probability minus the explanation map's."),
        Mistake("divided by O instead of Y", lambda Y, O: 100 * np.mean(np.maximum(0, Y - O) / O),
                "the drop is relative to the probability on the full image: divide by Y."),
        Mistake("not in percent", lambda Y, O: np.mean(np.maximum(0, Y - O) / Y),
                "Average Drop is in %: multiply by 100."),
        Mistake("absolute drop, not relative", lambda Y, O: 100 * np.mean(np.maximum(0, Y - O)),
                "divide each drop by Y, the probability on the full image."),
        Mistake("absolute difference", lambda Y, O: 100 * np.mean(np.abs(Y - O) / Y),
                "only drops count: `np.maximum(0, Y - O)`, not `abs(Y - O)`."),
        Mistake("sum instead of mean", lambda Y, O: 100 * np.sum(np.maximum(0, Y - O) / Y),
                "average over the N images: `np.mean`, not `np.sum`."),
        Mistake("ratio of the means", lambda Y, O: 100 * max(0.0, np.mean(Y) - np.mean(O)) / np.mean(Y),
                "compute the relative drop of each image first, then average the drops."),
    ),
    error_hints=(
        ("truth value of an array", "Python's `max` compares whole arrays: use `np.maximum(0, Y - O)`, element by element."),
    ),
)


def check_average_drop(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_average_drop(Y, O)``: :math:`\mathrm{AD} = \frac{100}{N}\sum_i \max(0, Y_i - O_i)/Y_i`.

    ``Y`` and ``O`` are NumPy arrays of ``N`` probabilities: the class
    probability on each full image and on its explanation map. The function
    returns one number, in %, compared with :func:`average_drop`.

    >>> check_average_drop(lambda Y, O: 100 * np.mean(np.maximum(0, Y - O) / Y)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("average_drop", fn, strict)


# --------------------------------------------------------------------------- #
# 12 — what CAM costs, in FLOPs
# --------------------------------------------------------------------------- #


def _flops_reference(K, h, w, H, W, n_classes):
    """The FLOPs counted by ``FlopCounterMode`` for CAM of ``n_classes`` classes, upsampled."""
    from torch.utils.flop_counter import FlopCounterMode

    from .cam import class_activation_map
    from .maps import upsample

    f = torch.rand(1, K, h, w, generator=torch.Generator().manual_seed(0))
    weights = torch.rand(n_classes + 1, K, generator=torch.Generator().manual_seed(1))
    with FlopCounterMode(display=False) as counter:
        upsample(class_activation_map(f, weights, list(range(n_classes))), (H, W))
    return counter.get_total_flops()


def _flops_cases():
    return [
        _case(K=8, h=3, w=5, H=12, W=20, n_classes=3),
        _case(K=16, h=4, w=4, H=32, W=24, n_classes=1),
        _case(K=32, h=6, w=7, H=40, W=56, n_classes=5),
    ]


_FLOPS = Exercise(
    id="cam_flops",
    chapter="12_benchmark",
    function="my_cam_flops",
    signature="my_cam_flops(K, h, w, H, W, n_classes)",
    title="what CAM costs beyond the forward pass",
    reference_name="the count of FlopCounterMode",
    reference=_flops_reference,
    cases=_flops_cases,
    returns="scalar",
    rtol=1e-9,
    atol=0.0,
    mistakes=(
        Mistake("forgot the factor 2", lambda K, h, w, H, W, n: n * K * h * w + n * H * w * (h + W),
                "FlopCounterMode counts a multiply–add as 2 FLOPs."),
        Mistake("forgot the upsampling", lambda K, h, w, H, W, n: 2 * n * K * h * w,
                "add the upsampling of each map, R M Cᵀ: H·w·(h + W) multiply–adds per class."),
        Mistake("forgot the weighting", lambda K, h, w, H, W, n: 2 * n * H * w * (h + W),
                "add the weighting M_c = Σ_k w_k^c f_k: K·h·w multiply–adds per class."),
        Mistake("one class only", lambda K, h, w, H, W, n: 2 * K * h * w + 2 * H * w * (h + W),
                "every class has its own map, weighted and upsampled: multiply by the number of classes."),
        Mistake("upsampling in the other order", lambda K, h, w, H, W, n: 2 * n * K * h * w + 2 * n * h * W * (w + H),
                "`upsample` computes R M first (H × w values, H·h·w multiply–adds), then (R M) Cᵀ: H·w·(h + W) in all."),
        Mistake("upsampled the K feature maps first", lambda K, h, w, H, W, n: 2 * K * H * w * (h + W) + 2 * n * K * H * W,
                "weigh first, then upsample the maps of the classes (chapter 3): upsampling all K feature maps costs far more."),
    ),
)


def check_cam_flops(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_cam_flops(K, h, w, H, W, n_classes)``: :math:`2 n K h w + 2 n H w (h + W)` FLOPs.

    The function returns the floating-point operations that CAM of
    ``n_classes`` classes adds to the forward pass — weighting :math:`K`
    feature maps of :math:`h \times w` cells, then upsampling each map to
    :math:`H \times W` with ``upsample`` — as one number. The reference is not
    a formula: it counts the operations of :func:`class_activation_map` and
    :func:`upsample` with ``FlopCounterMode`` on inputs of those sizes.

    >>> check_cam_flops(lambda K, h, w, H, W, n: 2 * n * K * h * w + 2 * n * H * w * (h + W)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return _run("cam_flops", fn, strict)


# --------------------------------------------------------------------------- #
# Registry, grading and the command line
# --------------------------------------------------------------------------- #


def _register(*pairs) -> dict[str, Exercise]:
    out = {}
    for ex, checker in pairs:
        out[ex.id] = Exercise(**{**ex.__dict__, "checker": checker})
    return out


EXERCISES: dict[str, Exercise] = _register(
    (_PREPROCESS, check_preprocess),
    (_HEAD, check_head),
    (_CAM, check_cam),
    (_SLIC, check_slic_distances),
    (_SECAM, check_secam),
    (_GRAD_CAM, check_grad_cam),
    (_GUIDED, check_guided_relu_grad),
    (_SEG, check_seg_target),
    (_ASCENT, check_ascent_step),
    (_MASS, check_mass_share),
    (_AD, check_average_drop),
    (_FLOPS, check_cam_flops),
)
"""Every auto-checked exercise, by id, in chapter order."""


def grade(namespace: Mapping[str, object]) -> list[CheckResult]:
    """Run every registered checker whose function is defined in ``namespace``; one result per exercise.

    ``namespace`` is a dict such as ``globals()`` or what ``runpy.run_path``
    returns. A function that is missing, or still the stub, gives a result with
    ``attempted=False`` and ``passed=False``, clearly worded.

    >>> [r.passed for r in grade({"my_cam": lambda f, W, c: (W[c][:, None, None] * f[0]).sum(0)})][2]
    True

    Never raises for wrong or failing functions: each result says what went wrong.
    """
    results = []
    for ex in EXERCISES.values():
        fn = namespace.get(ex.function)
        if fn is None:
            results.append(_missing(ex))
        else:
            results.append(ex.checker(fn))
    return results


class StudentFileError(Exception):
    """A student's file is missing or cannot be loaded; ``str(err)`` is one line that names the file."""


class _Discard(io.TextIOBase):
    """A text stream that forgets what is written to it: a student's megabytes of output cost no memory."""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)


def _first_line(err: BaseException) -> str:
    text = _safe_str(err).strip()
    return text.splitlines()[0] if text else ""


def _notebook_source(path: Path) -> list[tuple[int, ast.stmt]]:
    """The imports, function and class definitions of a notebook's code cells — nothing else runs.

    Lines that start with ``%`` or ``!`` (IPython magics and shell commands) are
    dropped, and so is every other statement: a chapter's cells load models and
    run experiments, which grading does not need; calls of ``check_…`` are never
    run.
    """
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = [c for c in nb["cells"] if c.get("cell_type") == "code"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise StudentFileError(f"{path}: not a readable notebook ({type(err).__name__}: {err})") from None
    names = {ex.function for ex in EXERCISES.values()}
    kept = []
    for i, cell in enumerate(cells):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError as err:
            if any(f"def {n}" in source for n in names):
                raise StudentFileError(f"{path}: code cell {i + 1} has a syntax error: {err.msg} (line {err.lineno})") from None
            continue  # a cell we would not run anyway
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kept.append((i, node))
    return kept


def load_student_file(path) -> dict:
    """The namespace of a student's ``.py`` file (run in a fresh namespace) or ``.ipynb`` notebook.

    A ``.py`` file runs as a script would (with ``__name__ == "__student__"``);
    of a notebook only the imports and the function and class definitions of
    its code cells run, so that grading never loads a model or runs an
    experiment; one that fails (a missing package, a default value that needs
    a variable of the chapter) is skipped, unless it defines an exercise's
    function. Output printed by the file is swallowed.

    Raises :class:`StudentFileError` (one line naming the file) when the file is
    missing, is not a notebook it claims to be, or raises while running.
    """
    p = Path(path)
    if not p.is_file():
        raise StudentFileError(f"{path}: no such file")
    with contextlib.redirect_stdout(_Discard()), contextlib.redirect_stderr(_Discard()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if p.suffix == ".ipynb":
            namespace: dict = {"__name__": "__student__"}
            exercise_functions = {ex.function for ex in EXERCISES.values()}
            for i, node in _notebook_source(p):
                code = compile(ast.Module(body=[node], type_ignores=[]), f"{p} (code cell {i + 1})", "exec")
                try:
                    exec(code, namespace)
                except KeyboardInterrupt:
                    raise
                except BaseException as err:  # noqa: BLE001 — SystemExit too: it must not end the grader
                    # An import that fails here, or a chapter's helper whose default value needs a
                    # variable that grading does not compute (`def f(x, net=model)`), is skipped;
                    # an exercise's own function must be defined.
                    if getattr(node, "name", None) in exercise_functions:
                        text = _first_line(err)
                        raise StudentFileError(
                            f"{path}: code cell {i + 1} failed to define {node.name}: {type(err).__name__}"
                            + (f": {text}" if text else "")
                        ) from None
            return namespace
        try:
            return runpy.run_path(str(p), run_name="__student__")
        except BaseException as err:  # noqa: BLE001 — a student's SystemExit must not end the grader either
            if isinstance(err, KeyboardInterrupt):
                raise
            text = _first_line(err)
            raise StudentFileError(f"{path}: failed to run: {type(err).__name__}" + (f": {text}" if text else "")) from None


CHECK_TIMEOUT = 20.0
"""Seconds that ``python -m tutorial_utils check`` allows for loading a file and for each exercise, unless told otherwise."""


def run_check(files: Sequence[str], *, as_json: bool = False, show_all: bool = False, out=None, err=None,
              timeout: float = CHECK_TIMEOUT, jobs: int | None = None) -> int:
    """``python -m tutorial_utils check FILE…``: grade each file in a child process of its own; the exit code.

    Prints one line per attempted exercise and file (chapter, function, ✓/✗,
    message) — every exercise, not attempted ones (–) included, with
    ``show_all`` — or with ``as_json`` a JSON list of objects with the keys ``file``,
    ``exercise``, ``chapter``, ``function``, ``attempted``, ``passed`` and
    ``message``. A student's code runs in child processes, never in this one
    (see :mod:`tutorial_utils._grader`): ``timeout`` seconds
    (:data:`CHECK_TIMEOUT`) are allowed for loading a file and for each
    exercise, and ``jobs`` files are graded at the same time (default: the
    number of CPUs, at most 4).

    Returns 0 if every attempted exercise is right; 1 if one is wrong, ran out
    of time or ended its process; 2 if a file is missing, unreadable or fails
    while loading (a syntax error, an exception, an exit or running out of
    time at import), with one line naming the file on stderr.
    """
    from ._grader import grade_files

    out = out or sys.stdout
    err = err or sys.stderr
    rows, code = [], 0
    for report in grade_files(files, timeout=timeout, jobs=jobs):
        if report.error is not None:
            print(f"error: {report.error}", file=err)
            code = 2
        for result in report.results:
            ex = EXERCISES[result.exercise]
            rows.append(dict(file=report.path, exercise=ex.id, chapter=ex.chapter, function=ex.function,
                             attempted=result.attempted, passed=result.passed, message=result.message))
            if result.attempted and not result.passed and code == 0:
                code = 1
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=1), file=out)
        return code
    for path in dict.fromkeys(row["file"] for row in rows):
        mine = [row for row in rows if row["file"] == path]
        print(path, file=out)
        for row in mine:
            if not (row["attempted"] or show_all):
                continue
            symbol = "✓" if row["passed"] else ("✗" if row["attempted"] else "–")
            print(f"  {row['chapter']:<26} {row['function']:<20} {symbol}  {row['message']}", file=out)
        attempted = sum(row["attempted"] for row in mine)
        right = sum(row["passed"] for row in mine)
        hidden = "" if show_all or attempted == len(mine) else " (--all lists the others)"
        print(f"  {attempted} of {len(mine)} exercises attempted{hidden}, {right} right.", file=out)
    return code
