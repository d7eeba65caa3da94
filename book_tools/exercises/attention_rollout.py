r"""Chapter 8b's auto-checked exercise: attention rollout, the class token's attention traced through every layer.

The reader writes ``my_attention_rollout(attentions)`` (Abnar & Zuidema, 2020):
for each layer :math:`l`, the attention averaged over the heads, with the
residual connection added and the rows renormalised,
:math:`\hat A_l = \mathrm{rownorm}(\tfrac12 \bar A_l + \tfrac12 I)`; then the
product :math:`R = \hat A_L \cdots \hat A_2 \hat A_1`, layer 1 acting first; the
answer is the class token's row without its own column, :math:`R_{0,1:}`, one
value per patch.

The test inputs are random row-stochastic attentions (the softmax of random
logits), one image each, with 2 to 4 heads, 5, 10 and 17 tokens and 3 or 4
layers: the product of random matrices depends on their order, so a product
taken the wrong way round gives numbers of its own, and so do the row and the
column of :math:`R`.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import Case, CheckResult, Exercise, Mistake, check_answer

__all__ = ["EXERCISE", "check_attention_rollout"]


def _layers(attentions):
    return [np.asarray(a, dtype=np.float64) for a in attentions]


def _with_residual(A):
    """½A + ½I, rows renormalised to sum to 1."""
    A = 0.5 * A + 0.5 * np.eye(A.shape[-1])
    return A / A.sum(-1, keepdims=True)


def _rollout(attentions, fuse=lambda a: a.mean(0), step=_with_residual, left=True):
    """The rolled-out matrix R, T×T; each choice of the computation is a parameter, for the mistakes below."""
    layers = _layers(attentions)
    R = np.eye(layers[0].shape[-1])
    for a in layers:
        A = step(fuse(a))
        R = A @ R if left else R @ A
    return R


def _rollout_reference(attentions):
    return _rollout(attentions)[0, 1:]


def _heads_kept_apart(attentions):
    """Every head rolled out on its own: R is heads×T×T, and ``R[0, 1:]`` is (T-1)×T."""
    layers = _layers(attentions)
    R = np.eye(layers[0].shape[-1])
    for a in layers:
        A = 0.5 * a + 0.5 * np.eye(a.shape[-1])
        R = (A / A.sum(-1, keepdims=True)) @ R
    return R[0, 1:]


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _rollout_cases():
    rng = np.random.default_rng(81)

    def case(heads, T, L):
        attentions = [_softmax(2.0 * rng.normal(size=(heads, T, T))) for _ in range(L)]
        return Case((attentions,), f"attentions (list of {L} arrays, float64), each of shape {(heads, T, T)}")

    # 5 tokens = 1 + 4 patches, 10 = 1 + 3×3, 17 = 1 + 4×4.
    return [case(3, 5, 3), case(4, 10, 4), case(2, 17, 3)]


EXERCISE = Exercise(
    id="attention_rollout",
    chapter="08b_vision_transformers",
    function="my_attention_rollout",
    signature="my_attention_rollout(attentions)",
    title="attention rollout",
    reference_name="attention rollout, the class token's row of Â_L ⋯ Â_1",
    reference=_rollout_reference,
    cases=_rollout_cases,
    mistakes=(
        Mistake("no identity added", lambda att: _rollout(att, step=lambda A: A)[0, 1:],
                "add the residual connection before multiplying: Â = ½A + ½I. Each token also passes itself on "
                "through the skip connection around the attention; without it the product forgets that, and "
                "after a few layers its rows all look alike."),
        Mistake("A + I, rows not renormalised", lambda att: _rollout(att, step=lambda A: A + np.eye(len(A)))[0, 1:],
                "with `A + I` every row sums to 2, and the product of L layers to 2^L: use ½A + ½I, or divide "
                "each row by its sum, `A_hat / A_hat.sum(-1, keepdims=True)`, so that every Â is a mixing of tokens "
                "again."),
        Mistake("max over the heads", lambda att: _rollout(att, fuse=lambda a: a.max(0))[0, 1:],
                "rollout averages the heads, `a.mean(0)`, and so counts each of them equally. The maximum over the "
                "heads is a variant of its own (some libraries offer it), not the rollout of Abnar & Zuidema."),
        Mistake("heads not averaged", _heads_kept_apart,
                "each layer's attention is heads × T × T: average the heads first, `a.mean(0)`, so that Â is T × T; "
                "otherwise every head is rolled out on its own."),
        Mistake("product in the wrong order", lambda att: _rollout(att, left=False)[0, 1:],
                "layer 1 acts first, so R = Â_L ⋯ Â_2 Â_1: start with `R = np.eye(T)` and put each new layer on the "
                "left, `R = A_hat @ R`. `R = R @ A_hat` gives Â_1 Â_2 ⋯ Â_L, and matrix products do not commute."),
        Mistake("included the class token's own column", lambda att: _rollout(att)[0],
                "drop the class token's own column: `R[0, 1:]` has one value per patch (T − 1 of them), ready to be "
                "reshaped to the patch grid."),
        Mistake("the column instead of the row", lambda att: _rollout(att)[1:, 0],
                "take the class token's row, `R[0, 1:]`: row 0 says how much the class token draws from each patch. "
                "The column `R[1:, 0]` says how much each patch draws from the class token."),
        Mistake("the last layer's attention only", lambda att: _layers(att)[-1].mean(0)[0, 1:],
                "that is the last layer's raw attention, averaged over the heads: rollout multiplies the Â of *all* "
                "layers, because the tokens the last layer attends to were already mixed by the layers below."),
    ),
    error_hints=(
        ("object has no attribute 'mean'", "attentions is a list with one array per layer: loop over it "
                                           "(`for a in attentions:`), and average each layer's heads, `a.mean(0)`."),
        ("mismatch in its core dimension", "every Â is T × T, T = `attentions[0].shape[-1]` tokens, the class token "
                                           "included: build the identity with `np.eye(T)`."),
    ),
)


def check_attention_rollout(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_attention_rollout(attentions)``: :math:`R = \hat A_L \cdots \hat A_1`, returned as :math:`R_{0,1:}`.

    ``attentions`` is a list of ``L`` float arrays, layer 1 first, each
    ``heads×T×T``: the attention probabilities of one image (every row sums to
    1), token 0 the class token and tokens 1 … T−1 the patches. With
    :math:`\bar A_l` the mean over the heads,
    :math:`\hat A_l = \mathrm{rownorm}(\tfrac12 \bar A_l + \tfrac12 I)`; the
    function returns the class token's row of the product without its own
    column, ``T−1`` values (NumPy array or tensor).

    >>> def my_attention_rollout(attentions):
    ...     R = np.eye(attentions[0].shape[-1])
    ...     for a in attentions:
    ...         A = 0.5 * a.mean(0) + 0.5 * np.eye(len(R))
    ...         R = (A / A.sum(-1, keepdims=True)) @ R
    ...     return R[0, 1:]
    >>> check_attention_rollout(my_attention_rollout).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
