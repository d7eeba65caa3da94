r"""Chapter 4's auto-checked exercise: the SLIC distance :math:`D = \sqrt{d_c^2 + (m/S)^2 d_{xy}^2}`.

The reader writes ``my_slic_distances(image, centres, m, S)``: the distance
from every pixel to every centre, an array ``K×H×W``. The reference calls
:func:`tutorial_utils.slic.slic_distance` pixel by pixel; the test images are
not square and the centres sit off the grid, so that rows and columns cannot
be swapped unnoticed.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import numpy as np

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_slic_distances"]


def _slic_reference(image, centres, m, S):
    from tutorial_utils.slic import slic_distance

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
    rng = np.random.default_rng(4)

    def case(h, w, centres, m):
        image = np.round(rng.uniform(0, 50, (h, w)), 1)
        return make_case(image=image, centres=np.array(centres, dtype=np.float64), m=m,
                         S=float(np.sqrt(h * w / len(centres))))

    return [
        case(4, 6, [[12.0, 1.0, 1.5], [30.0, 2.5, 4.25], [45.0, 0.5, 3.0]], 10.0),
        case(5, 4, [[10.0, 1.0, 1.0], [20.0, 1.0, 3.0], [30.0, 3.5, 0.5], [40.0, 3.0, 2.5]], 20.0),
    ]


EXERCISE = Exercise(
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
    return check_answer(EXERCISE, fn, strict=strict)
