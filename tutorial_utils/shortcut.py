r"""A shortcut caught in the act: scenes with a spurious marker.

:func:`shortcut_dataset` draws a disc or a square (the real signal, with
:func:`tutorial_utils.shapes_scene`) and, in a corner, a small "L" tag like the
lead markers on radiographs. How often the tag appears on each class is the
knob: correlated with *disc* for training; removed, flipped or everywhere for
testing. The network that learns the shortcut is in :mod:`tutorial_utils.smallnets`.

>>> data = shortcut_dataset(4, seed=0)
>>> data.images.shape, data.labels.tolist(), data.has_marker.tolist()
((4, 32, 32, 3), [1, 0, 1, 1], [True, False, True, True])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .checks import as_rng, int_at_least, positive_int
from .shapes import shapes_scene

__all__ = ["MARKER_SETTINGS", "SHORTCUT_CLASSES", "ShortcutData", "shortcut_dataset"]

#: Label ``i`` means ``SHORTCUT_CLASSES[i]``; 1 (*disc*) plays the "disease".
SHORTCUT_CLASSES = ("square", "disc")

#: Named marker settings: the probability of the marker on a *square* and on a *disc*.
MARKER_SETTINGS = {
    "correlated": (0.01, 0.99),  # on nearly every disc, nearly no square: the shortcut model's training data
    "uncorrelated": (0.5, 0.5),  # on half of each class: the marker says nothing
    "none": (0.0, 0.0),  # the marker removed
    "flipped": (0.99, 0.01),  # the correlation reversed
    "everywhere": (1.0, 1.0),  # a marker on every image
}

# The tag: a white 5×5 square with a dark "L" (scaled by size // 32 for larger images).
_GLYPH = np.array([list(row) for row in ("11111", "10111", "10111", "10001", "11111")]) == "1"
_LIGHT, _DARK = 245, 20


class ShortcutData(NamedTuple):
    """What :func:`shortcut_dataset` returns: RGB ``images`` ``n×H×W×3``, ``labels`` ``n`` (index into
    :data:`SHORTCUT_CLASSES`), and boolean ``n×H×W`` masks of the ``marker``'s pixels and of the shape (``objects``).
    """

    images: np.ndarray
    labels: np.ndarray
    marker: np.ndarray
    objects: np.ndarray

    @property
    def has_marker(self) -> np.ndarray:
        """Boolean ``n``: which images carry the marker."""
        return self.marker.any(axis=(1, 2))


def _marker_rates(marker) -> tuple[float, float]:
    try:
        rates = MARKER_SETTINGS[marker] if isinstance(marker, str) else tuple(float(r) for r in marker)
    except (KeyError, TypeError, ValueError):
        rates = ()
    if len(rates) != 2 or not all(0.0 <= r <= 1.0 for r in rates):
        raise ValueError(f"marker must be one of {', '.join(MARKER_SETTINGS)} or a pair of "
                         f"probabilities in [0, 1] (on squares, on discs); got {marker!r}")
    return rates


def shortcut_dataset(n: int, seed=0, *, size: int = 32, marker="correlated") -> ShortcutData:
    r"""``n`` scenes of one disc or one square, with a corner marker whose presence depends on the class.

    Each scene is :func:`shapes_scene` with one shape (label 1 = disc with
    probability ½, else 0 = square); then, with probability :math:`p_{\text{label}}`,
    a white "L" tag is drawn in a corner that the shape does not touch. ``marker``
    gives :math:`(p_0, p_1)` as a pair or by name from :data:`MARKER_SETTINGS`. Every
    random number is drawn whatever the setting, so one ``seed`` gives the same
    scenes for every ``marker``: only the marker's pixels differ.

    >>> with_tag = shortcut_dataset(8, seed=3, marker="everywhere")
    >>> without = shortcut_dataset(8, seed=3, marker="none")
    >>> bool((with_tag.images[~with_tag.marker] == without.images[~with_tag.marker]).all())
    True

    Raises ``ValueError`` for ``n`` < 1, ``size`` < 32 or an unknown ``marker``; ``TypeError`` for a bad ``seed``.
    """
    n, size = positive_int(n, "n"), int_at_least(size, "size", 32)
    rates = _marker_rates(marker)
    rng = as_rng(seed)
    scale = size // 32
    glyph = np.kron(_GLYPH, np.ones((scale, scale), dtype=bool))
    m, gap = glyph.shape[0], scale  # marker side and distance from the border
    corners = [(gap, gap), (gap, size - gap - m), (size - gap - m, gap), (size - gap - m, size - gap - m)]

    images = np.empty((n, size, size, 3), dtype=np.uint8)
    labels = np.empty(n, dtype=np.int64)
    marker_masks = np.zeros((n, size, size), dtype=bool)
    objects = np.zeros((n, size, size), dtype=bool)
    for i in range(n):
        label = int(rng.integers(0, 2))
        image, pixel_labels = shapes_scene(rng, size=size, kinds=[1 if label == 1 else 2])
        shape = pixel_labels > 0
        # Corners whose marker box, grown by two pixels, stays clear of the shape.
        free = [(r, c) for r, c in corners
                if not shape[max(r - 2, 0):r + m + 2, max(c - 2, 0):c + m + 2].any()]
        r, c = (free or corners)[int(rng.integers(len(free or corners)))]
        if rng.uniform() < rates[label]:
            patch = image[r:r + m, c:c + m]
            patch[glyph] = _LIGHT
            patch[~glyph] = _DARK
            marker_masks[i, r:r + m, c:c + m] = True
        images[i], labels[i] = image, label
        objects[i] = shape & ~marker_masks[i]
    return ShortcutData(images, labels, marker_masks, objects)
