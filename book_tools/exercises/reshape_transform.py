r"""Chapter 8b's transfer task: a ``reshape_transform`` that turns a transformer's tokens into feature maps.

Grad-CAM and its relatives (pytorch-grad-cam, chapter 6) expect feature maps
``B×D×h×w``; a vision transformer's blocks output tokens ``B×N×D``. The
library's ``reshape_transform`` argument is the bridge, and the usual one —
drop the first token, reshape to a 14×14 grid — is right only for a ViT with
exactly one class token and a square grid. The reader writes
``my_reshape_transform(tokens, n_extra, h, w)`` for any number of extra tokens
in front (none; a class token; DeiT's class and distillation tokens; a class
token and registers) and any grid: keep the last ``h·w`` tokens, put patch
:math:`p = \text{row}\cdot w + \text{col}` at its place in the grid, channels
first.

The test inputs have 1, 2, 0 and 4 extra tokens, in that order (the first
input is the common case, one class token, so a reader who drops one token whatever
``n_extra`` is passes it and then reads, on the second, why the reshape
fails); batches of one and of two images; and grids that are not square, with
as many channels as neither side, so that swapping ``h`` and ``w`` or keeping
the channels last gives a shape or numbers of its own.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_reshape_transform"]


def _patches(tokens, n_extra):
    tokens = np.asarray(tokens)
    return tokens[:, n_extra:], tokens.shape[0], tokens.shape[2]


def _reshape_reference(tokens, n_extra, h, w):
    x, B, D = _patches(tokens, n_extra)
    return x.reshape(B, h, w, D).transpose(0, 3, 1, 2)


def _dropped_the_last(tokens, n_extra, h, w):
    tokens = np.asarray(tokens)
    B, N, D = tokens.shape
    return tokens[:, :N - n_extra].reshape(B, h, w, D).transpose(0, 3, 1, 2)


def _no_transpose(tokens, n_extra, h, w):
    x, B, D = _patches(tokens, n_extra)
    return x.reshape(B, D, h, w)


def _grid_transposed(tokens, n_extra, h, w):
    x, B, D = _patches(tokens, n_extra)
    return x.reshape(B, w, h, D).transpose(0, 3, 2, 1)


def _h_w_swapped(tokens, n_extra, h, w):
    x, B, D = _patches(tokens, n_extra)
    return x.reshape(B, w, h, D).transpose(0, 3, 1, 2)


def _channels_last(tokens, n_extra, h, w):
    x, B, D = _patches(tokens, n_extra)
    return x.reshape(B, h, w, D)


def _reshape_cases():
    rng = np.random.default_rng(82)

    def case(B, n_extra, h, w, D):
        tokens = rng.normal(size=(B, n_extra + h * w, D)).astype(np.float32)
        return make_case(tokens=tokens, n_extra=n_extra, h=h, w=w)

    return [
        case(2, 1, 3, 4, 5),  # a ViT: one class token
        case(1, 2, 4, 3, 6),  # DeiT: a class token and a distillation token
        case(2, 0, 2, 5, 3),  # no extra token (a model that pools its patch tokens)
        case(1, 4, 3, 3, 4),  # a class token and three registers, on a square grid
    ]


_ROW_MAJOR = ("Patch p lies at row p // w, column p % w: reshape to `(B, h, w, D)` — h rows of w patches — and "
              "then bring the channels forward, `.transpose(0, 3, 1, 2)`.")

EXERCISE = Exercise(
    id="reshape_transform",
    chapter="08b_vision_transformers",
    function="my_reshape_transform",
    signature="my_reshape_transform(tokens, n_extra, h, w)",
    title="a reshape_transform for any extra tokens and any grid",
    reference_name="the patch tokens on their B × D × h × w grid",
    reference=_reshape_reference,
    cases=_reshape_cases,
    kind="transfer",
    mistakes=(
        Mistake("dropped the last n_extra tokens", _dropped_the_last,
                "the extra tokens (class, distillation, registers) come *first*: keep `tokens[:, n_extra:]`, the "
                "last h·w tokens. `tokens[:, :h * w]` keeps the extra tokens and drops the last patches."),
        Mistake("reshaped straight to (B, D, h, w)", _no_transpose,
                "a reshape never moves a number, it only regroups them: reading B × N × D as B × D × h × w mixes "
                "channels and patches. " + _ROW_MAJOR),
        Mistake("h and w swapped, then transposed back", _grid_transposed,
                "the shape is right, but the grid is read column by column. " + _ROW_MAJOR),
        Mistake("h and w swapped", _h_w_swapped,
                "the grid has h rows and w columns, and the tokens come row after row. " + _ROW_MAJOR
                + " On a square grid the swap goes unnoticed."),
        Mistake("channels last", _channels_last,
                "Grad-CAM expects channels first, like a CNN's feature maps: `.transpose(0, 3, 1, 2)` turns "
                "B × h × w × D into B × D × h × w."),
    ),
    error_hints=(
        ("cannot reshape", "the patch tokens are the last h·w of the n_extra + h·w tokens: keep `tokens[:, n_extra:]`. "
                           "`tokens[:, 1:]` is right only for a model with exactly one class token (DeiT adds a "
                           "distillation token, a ViT with registers more, some models have none), and "
                           "`tokens[:, :-n_extra]` is empty when n_extra is 0."),
        ("is invalid for input of size", "the patch tokens are the last h·w of the n_extra + h·w tokens: keep "
                                         "`tokens[:, n_extra:]`, not `tokens[:, 1:]` — n_extra may be 0, 1, 2 or more."),
        ("axes don't match array", "NumPy's `transpose` takes the new order of *all* the axes, "
                                   "`x.transpose(0, 3, 1, 2)`; torch's `transpose(a, b)` swaps only two."),
        ("has no attribute 'permute'", "tokens is a NumPy array, and NumPy has no `permute`: its "
                                       "`.transpose(0, 3, 1, 2)` does the same (or start from `torch.from_numpy(tokens)`)."),
    ),
)


def check_reshape_transform(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_reshape_transform(tokens, n_extra, h, w)``: the patch tokens as feature maps ``B×D×h×w``.

    ``tokens`` is a float array ``B×(n_extra + h·w)×D`` (a transformer block's
    output): ``n_extra`` tokens in front (class, distillation or register
    tokens; possibly none), then the ``h·w`` patch tokens row after row, patch
    :math:`p` at row ``p // w`` and column ``p % w``. The function returns
    them on their grid, channels first, ``B×D×h×w`` (NumPy array or tensor) —
    what pytorch-grad-cam's ``reshape_transform`` must return.

    >>> def my_reshape_transform(tokens, n_extra, h, w):
    ...     B, N, D = tokens.shape
    ...     return tokens[:, n_extra:].reshape(B, h, w, D).transpose(0, 3, 1, 2)
    >>> check_reshape_transform(my_reshape_transform).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
