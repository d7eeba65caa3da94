"""Figures: the last step of the book's data path."""

from __future__ import annotations

from typing import Sequence

from .models import Prediction

__all__ = ["plot_top_k"]

# One colour from the colour-blind-safe Okabe–Ito palette.
_BAR_COLOUR = "#0072B2"


def plot_top_k(predictions: Sequence[Prediction], ax=None, title: str | None = None):
    """Horizontal bar chart of a top-k list, most probable class on top.

    ``predictions`` is what ``model.top_k(x, k)`` returns for one image.
    Returns the matplotlib ``Axes``.

    >>> plot_top_k(model.top_k(x, 5), title="coffee")   # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    preds = list(predictions)
    if not preds or not all(isinstance(p, Prediction) for p in preds):
        raise TypeError(
            "predictions must be a non-empty list of Prediction, as returned by "
            "model.top_k(x, k) for one image"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.45 * len(preds) + 0.8))
    labels = [p.label for p in preds][::-1]
    probs = [p.probability for p in preds][::-1]
    bars = ax.barh(range(len(preds)), probs, color=_BAR_COLOUR)
    ax.set_yticks(range(len(preds)), labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    for bar, p in zip(bars, probs):
        inside = p > 0.75
        ax.text(
            p - 0.01 if inside else p + 0.01,
            bar.get_y() + bar.get_height() / 2,
            f"{p:.1%}",
            va="center",
            ha="right" if inside else "left",
            color="white" if inside else "black",
            fontsize=9,
        )
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title)
    return ax
