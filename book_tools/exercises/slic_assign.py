r"""Chapter 4's transfer task: SLIC's assignment step, each centre searching only its :math:`2S \times 2S` window.

On the chapter's 5×5 toy every window covered the whole image, so a plain
``argmin`` over all centres was right. On a larger image it is not: the reader
writes ``my_slic_assign(D, centres, S)``, where ``D`` is the ``K×H×W`` array of
distances (as ``my_slic_distances`` returns it), and each pixel joins the
centre with the smallest :math:`D` *among the centres whose window contains
it* — :math:`|y - r| \le S` and :math:`|x - c| \le S` — or gets ``-1`` when no
window reaches it. The test images are wider than tall, with a small
compactness, so that a far centre of the right colour often beats the near
ones: a search without windows, or with windows of the wrong size, goes wrong.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_slic_assign"]


def _assign(D, centres, S, *, half=None, pick=np.argmin, outside=-1, swapped=False):
    """Labels from ``D`` restricted to windows of half-side ``half`` (default S); ``pick`` chooses the centre."""
    D = np.asarray(D, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    half = S if half is None else half
    rows, cols = np.indices(D.shape[1:])
    inside = np.stack([
        (np.abs(rows - (c if swapped else r)) <= half) & (np.abs(cols - (r if swapped else c)) <= half)
        for _, r, c in centres
    ])
    fill = np.inf if pick is np.argmin else -np.inf
    labels = pick(np.where(inside, D, fill), axis=0)
    return np.where(inside.any(axis=0), labels, outside)


def _reference(D, centres, S):
    """Pixel by pixel, as the algorithm says: the nearest of the centres whose window holds the pixel."""
    D = np.asarray(D, dtype=np.float64)
    K, H, W = D.shape
    labels = np.full((H, W), -1)
    for y in range(H):
        for x in range(W):
            best = np.inf
            for k, (_, r, c) in enumerate(np.asarray(centres, dtype=np.float64)):
                if abs(y - r) <= S and abs(x - c) <= S and D[k, y, x] < best:
                    best, labels[y, x] = D[k, y, x], k
    return labels


def _cases():
    rng = np.random.default_rng(18)

    def case(h, w, centres, m, S):
        image = rng.uniform(0, 60, (h, w)).round(1)
        centres = np.array(centres, dtype=np.float64)
        rr, cc = np.indices((h, w))
        D = np.stack([np.sqrt((image - i) ** 2 + (m / S) ** 2 * ((rr - r) ** 2 + (cc - c) ** 2))
                      for i, r, c in centres])
        return make_case(D=D, centres=centres, S=S)

    return [
        # windows that overlap and cover everything; colour beats distance
        case(6, 9, [[15.0, 1.5, 1.5], [30.0, 1.5, 4.5], [45.0, 1.5, 7.5],
                    [45.0, 4.5, 1.5], [15.0, 4.5, 4.5], [30.0, 4.5, 7.5]], 2.0, 3.0),
        # centres off the grid, and pixels that no window reaches
        case(7, 10, [[20.0, 1.2, 1.8], [50.0, 5.6, 7.9], [35.0, 2.4, 8.3]], 1.0, 2.2),
    ]


EXERCISE = Exercise(
    id="slic_assign",
    chapter="04_slic",
    function="my_slic_assign",
    signature="my_slic_assign(D, centres, S)",
    title="SLIC's assignment, each centre searching only its 2S × 2S window",
    reference_name="the assignment of slic_from_scratch, with windows of half-side S",
    reference=_reference,
    cases=_cases,
    kind="transfer",
    mistakes=(
        Mistake("no window: the nearest of all centres", lambda D, centres, S: np.asarray(D).argmin(axis=0),
                "a centre competes only for the pixels in its 2S × 2S window (|row − r| ≤ S and |column − c| ≤ S); "
                "set D to infinity outside it before taking the argmin, and give −1 to pixels no window reaches."),
        Mistake("a window of side S", lambda D, centres, S: _assign(D, centres, S, half=S / 2),
                "the window is 2S × 2S: it reaches S, not S/2, from the centre in each direction."),
        Mistake("the farthest centre", lambda D, centres, S: _assign(D, centres, S, pick=np.argmax),
                "each pixel joins the centre with the *smallest* D in whose window it lies: argmin, not argmax."),
        Mistake("rows and columns swapped", lambda D, centres, S: _assign(D, centres, S, swapped=True),
                "a centre is (intensity, row, column): compare the pixel's row with the centre's row (`centres[k, 1]`)."),
        Mistake("pixels outside every window given label 0", lambda D, centres, S: _assign(D, centres, S, outside=0),
                "a pixel that no window reaches belongs to no centre yet: give it −1, not 0 (0 is a centre)."),
    ),
)


def check_slic_assign(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_slic_assign(D, centres, S)``: SLIC's assignment with each centre limited to its :math:`2S \times 2S` window.

    ``D`` is a float array ``K×H×W`` (the distance :math:`D` from every centre
    to every pixel), ``centres`` an array ``K×3`` of (intensity, row, column)
    and ``S`` the grid interval. The function returns the ``H×W`` labels: for
    each pixel the index of the centre with the smallest ``D`` among those with
    :math:`|y - r| \le S` and :math:`|x - c| \le S`, or ``-1`` when there is none.

    >>> def my_slic_assign(D, centres, S):
    ...     rows, cols = np.indices(D.shape[1:])
    ...     inside = np.stack([(abs(rows - r) <= S) & (abs(cols - c) <= S) for _, r, c in centres])
    ...     return np.where(inside.any(0), np.where(inside, D, np.inf).argmin(0), -1)
    >>> check_slic_assign(my_slic_assign).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
