r"""The sanity check's judge: similarity statistics that do not cancel over random draws.

Cascading randomisation (:func:`tutorial_utils.metrics.cascading_randomisation`)
destroys a model's weights from the top down: does a method's map change? The
signed rank correlation :math:`\rho(M, \tilde M)` cannot tell for CAM, HiResCAM or
SeCAM: they are linear in the classifier's weights, a random :math:`\tilde w` is as
likely as :math:`-\tilde w`, so :math:`\rho` averages to zero *whatever the map
keeps*. As Adebayo et al. (NeurIPS 2018), we judge by statistics a sign flip leaves unchanged:

.. math::

    |\rho| = \bigl|\rho(M, \tilde M)\bigr|, \qquad
    \rho_{\text{abs}} = \rho\bigl(|M|, |\tilde M|\bigr), \qquad
    \text{SSIM}\Bigl(\tfrac{|M|}{\max |M|}, \tfrac{|\tilde M|}{\max |\tilde M|}\Bigr).

**The rule** (:func:`sanity_verdict`): a step *passes* when all three are clearly below
:data:`SANITY_BAR`, *fails* when one is clearly above. A map that ignores the model fails.

>>> M = np.random.default_rng(0).random((8, 8))
>>> s = map_similarity(M, -M)          # the sign flipped, nothing else
>>> round(s.rho, 2), round(s.abs_rho, 2), round(s.ssim, 2)
(-1.0, 1.0, 1.0)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .checks import as_map_array, number_in

__all__ = ["SANITY_BAR", "SANITY_STATISTICS", "Similarity", "map_similarity", "randomisation_similarity",
           "sanity_verdict"]

#: A method passes a step when every statistic in :data:`SANITY_STATISTICS` is clearly below this bar.
SANITY_BAR = 0.5

#: The statistics that judge: none of them changes when the map's sign flips.
SANITY_STATISTICS = ("abs_of_rho", "abs_rho", "ssim")


class Similarity(NamedTuple):
    r"""How alike a trained and a randomised map are: signed :math:`\rho` (reported, never judged: it cancels
    over draws), :math:`|\rho|`, :math:`\rho` of the absolute maps, SSIM of the absolute maps scaled to 1."""

    rho: float
    abs_of_rho: float
    abs_rho: float
    ssim: float


def _spearman(u: np.ndarray, v: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if u.max() == u.min() or v.max() == v.min():
        return 0.0                       # a flat map has no ranking: none of the other's order survives
    return float(spearmanr(u, v).statistic)


def _unit_magnitude(m: np.ndarray) -> np.ndarray:
    top = np.abs(m).max()
    return np.abs(m) / top if top > 0 else np.zeros_like(m)


def map_similarity(trained, randomised) -> Similarity:
    r"""The four statistics of one trained map :math:`M` and one randomised map :math:`\tilde M` (2-D, one shape).

    Spearman's :math:`\rho` (ties share their mean rank) and scikit-image's
    ``structural_similarity`` on ``[0, 1]``. A randomised map that went flat (a
    Grad-CAM's ReLU can leave all zeros) has no ranking: both :math:`\rho` count as 0.

    >>> M = np.arange(16.0).reshape(4, 4)
    >>> map_similarity(M, M).abs_rho
    1.0

    Raises ``ValueError`` for maps that are not 2-D, differ in shape, hold NaN, are
    smaller than 3×3, or for a flat *trained* map (nothing to compare with).
    """
    from skimage.metrics import structural_similarity

    a = as_map_array(trained, "trained").astype(np.float64)
    b = as_map_array(randomised, "randomised").astype(np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"trained and randomised must be 2-D maps of one shape, got {a.shape} and {b.shape}")
    if a.max() == a.min():
        raise ValueError("trained is a flat map: it has no ranking to compare with")
    side = min(a.shape)
    if side < 3:
        raise ValueError(f"maps must be at least 3×3 for SSIM, got {a.shape}")
    rho = _spearman(a.ravel(), b.ravel())
    abs_rho = _spearman(np.abs(a).ravel(), np.abs(b).ravel())
    window = min(7, side if side % 2 else side - 1)  # SSIM's 7×7 window, or the largest odd one that fits
    ssim = float(structural_similarity(_unit_magnitude(a), _unit_magnitude(b), data_range=1.0, win_size=window))
    return Similarity(rho, abs(rho), abs_rho, ssim)


def randomisation_similarity(trained, randomised) -> dict[str, np.ndarray]:
    """Every statistic of a whole cascade: ``trained`` is ``n×H×W``, ``randomised`` ``draws×steps×n×H×W``.

    Returns a dict from each name of :class:`Similarity` to an array
    ``draws×steps``: the statistic averaged over the ``n`` images.

    >>> M = np.random.default_rng(0).random((2, 8, 8))
    >>> stats = randomisation_similarity(M, np.stack([[M, -M]]))   # 1 draw, 2 steps
    >>> stats["rho"].round(2).tolist(), stats["abs_rho"].round(2).tolist()
    ([[1.0, -1.0]], [[1.0, 1.0]])

    Raises ``ValueError`` when the shapes do not fit together.
    """
    a, r = np.asarray(trained), np.asarray(randomised)
    if a.ndim != 3 or r.ndim != 5 or r.shape[2:] != a.shape:
        raise ValueError(f"trained must be n×H×W and randomised draws×steps×n×H×W with the same n×H×W, "
                         f"got {a.shape} and {r.shape}")
    out = {name: np.zeros(r.shape[:2]) for name in Similarity._fields}
    for d, s in np.ndindex(*r.shape[:2]):
        per_image = [map_similarity(a[i], r[d, s, i]) for i in range(a.shape[0])]
        for name in Similarity._fields:
            out[name][d, s] = np.mean([getattr(p, name) for p in per_image])
    return out


def sanity_verdict(stats: dict[str, np.ndarray], bar: float = SANITY_BAR) -> np.ndarray:
    r"""The verdict per step, ``"pass"``, ``"fail"`` or ``"unclear"``, from the spread over draws.

    With :math:`\bar s` the mean over the draws of each statistic of :data:`SANITY_STATISTICS`
    in ``stats`` (:func:`randomisation_similarity`'s) and :math:`e` its standard error (0 for
    one draw), a step **passes** when :math:`\bar s + 2e < \text{bar}` for every statistic,
    **fails** when :math:`\bar s - 2e > \text{bar}` for one, and is **unclear** otherwise.
    Slice off the trained model's step first. Returns Python strings (``dtype=object``).

    >>> stats = {"abs_of_rho": np.array([[0.1, 0.2]]), "abs_rho": np.array([[0.3, 0.9]]),
    ...          "ssim": np.array([[0.2, 0.2]])}
    >>> sanity_verdict(stats).tolist()           # one draw: abs_rho 0.9 fails the second step
    ['pass', 'fail']

    Raises ``ValueError`` for a missing statistic, arrays not ``draws×steps``, or a bar outside (0, 1].
    """
    bar = number_in(bar, "bar", 0, 1, above=True)
    missing = [name for name in SANITY_STATISTICS if name not in stats]
    if missing:
        raise ValueError(f"stats lacks {missing}: pass the result of randomisation_similarity")
    values = np.stack([np.asarray(stats[name], dtype=float) for name in SANITY_STATISTICS])
    if values.ndim != 3:
        raise ValueError(f"each statistic must be an array draws×steps, got shape {values.shape[1:]}")
    draws = values.shape[1]
    mean = values.mean(axis=1)
    error = values.std(axis=1, ddof=1) / np.sqrt(draws) if draws > 1 else np.zeros_like(mean)
    passes = (mean + 2 * error < bar).all(axis=0)
    fails = (mean - 2 * error > bar).any(axis=0)
    # Python strings (dtype object), so that one verdict prints as "fail", not np.str_('fail').
    return np.where(passes, "pass", np.where(fails, "fail", "unclear")).astype(object)
