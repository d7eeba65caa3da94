r"""SeCAM at the speed of CAM: the superpixel means of :mod:`tutorial_utils.secam`, computed fast.

:mod:`tutorial_utils.secam` is the chapter's computation; this module gives the same numbers
(``tests/unit/test_secam.py`` checks it) for the benchmark, the explorer and ``secam(..., from_grid=True)``:

* :math:`P[s, ij] = \frac{1}{|s|} \sum_{(y, x) \in s} R[y, i]\, C[x, j]` is built from the
  *runs* of one label along each row: a run of :math:`s` in row :math:`y` from column
  :math:`x_0` to :math:`x_1` adds :math:`R[y, i] \sum_{x_0 \le x < x_1} C[x, j]` to
  :math:`|s|\,P[s, ij]`, and the sums over columns come from prefix sums of :math:`C` —
  no loop over superpixels or cells;
* what depends only on the segmentation (labels numbered 0 … L-1, runs, :math:`P` per grid size) is kept
  for the :data:`CACHE_SIZE` most recent segmentations, behind a lock (the explorer's threads), and found
  only for ``segments`` equal value by value: a label image changed in place never gets stale weights.

>>> segments = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2], [2, 2, 2, 2]])
>>> superpixel_means(np.array([[0.0, 4.0], [8.0, 8.0]]), segments)   # a 2×2 grid, upsampled to 4×4
array([1.4375, 4.0625, 7.25  ])
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from .checks import as_map_array, as_segments
from .maps import interpolation_matrix

__all__ = ["CACHE_SIZE", "clear_superpixel_cache", "secam_from_grid", "superpixel_means"]

#: Segmentations whose layout is kept (the most recently used ones).
CACHE_SIZE = 8


@dataclass
class _Layout:
    """A segmentation's labels numbered 0 … L-1, their sizes, and its runs of equal labels along each row."""

    source: np.ndarray  # a private copy: a cached layout is used only for segments equal to it
    index: np.ndarray  # H×W, 0 … L-1 in sorted label order
    flat_index: torch.Tensor  # the same, flat, int64, for painting
    counts: np.ndarray  # pixels per superpixel, L
    run_row: np.ndarray  # for every run of one label within a row: its row,
    run_start: np.ndarray  # its first column
    run_stop: np.ndarray  # and one past its last column, ordered by label
    first_of_label: np.ndarray  # where each label's runs start in that order
    weights: dict = field(default_factory=dict)  # (h, w) → P, L×hw
    lock: threading.Lock = field(default_factory=threading.Lock)


def _layout_of(seg: np.ndarray) -> _Layout:
    height, width = seg.shape
    source = np.array(seg, order="C")  # a private copy: nothing below may share the caller's memory
    flat = source.ravel()
    if flat.min() >= 0 and flat.max() < 4 * flat.size:  # small labels: count them directly
        counts = np.bincount(flat)
        present = counts > 0
        index = flat if present.all() else (np.cumsum(present) - 1)[flat]  # gaps: renumber 0 … L-1
        counts = counts[present]
    else:  # negative or huge labels: sort them (several times slower)
        _, index, counts = np.unique(flat, return_inverse=True, return_counts=True)
    index = index.reshape(height, width)
    # A run starts at every column 0 and wherever the label changes along a row.
    starts = np.ones((height, width), dtype=bool)
    starts[:, 1:] = index[:, 1:] != index[:, :-1]
    rows, cols = np.nonzero(starts)
    stops = np.append(np.where(rows[1:] == rows[:-1], cols[1:], width), width)
    run_label = index[rows, cols]
    by_label = np.argsort(run_label, kind="stable")
    first_of_label = np.searchsorted(run_label[by_label], np.arange(len(counts)))
    return _Layout(source, index, torch.from_numpy(index.ravel().astype(np.int64)), counts,
                   rows[by_label], cols[by_label], stops[by_label], first_of_label)


_cache: list[_Layout] = []
_cache_lock = threading.Lock()


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images are equal, value by value (torch's comparison, twice NumPy's speed)."""
    if a.shape == b.shape and a.dtype == b.dtype and b.flags.c_contiguous:
        try:
            return torch.equal(torch.from_numpy(a), torch.from_numpy(b))
        except (TypeError, RuntimeError):  # a dtype torch cannot compare
            pass
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _layout(seg: np.ndarray) -> _Layout:
    """The layout of ``seg``, from the cache when an equal segmentation was seen."""
    with _cache_lock:
        for i, layout in enumerate(_cache):
            if _equal(layout.source, seg):
                _cache.insert(0, _cache.pop(i))
                return layout
    layout = _layout_of(seg)
    with _cache_lock:
        _cache.insert(0, layout)
        del _cache[CACHE_SIZE:]
    return layout


def clear_superpixel_cache() -> None:
    """Forget every segmentation's layout (to time the first call, for example)."""
    with _cache_lock:
        _cache.clear()


def _weights(layout: _Layout, grid: tuple[int, int]) -> np.ndarray:
    """P (L × hw) for a grid of size ``grid``, from the runs and prefix sums of C; computed once per grid size."""
    with layout.lock:
        if grid not in layout.weights:
            h, w = grid
            height, width = layout.index.shape
            R = interpolation_matrix(h, height).numpy().astype(np.float64)  # height × h
            C = interpolation_matrix(w, width).numpy().astype(np.float64)  # width × w
            C_sum = np.zeros((width + 1, w))
            np.cumsum(C, axis=0, out=C_sum[1:])
            across = C_sum[layout.run_stop] - C_sum[layout.run_start]  # runs × w
            per_run = R[layout.run_row][:, :, None] * across[:, None, :]  # runs × h × w
            sums = np.add.reduceat(per_run.reshape(len(per_run), h * w), layout.first_of_label, axis=0)
            layout.weights[grid] = sums / layout.counts[:, None]
        return layout.weights[grid]


def _means(stack: np.ndarray, layout: _Layout) -> np.ndarray:
    """The means of a stack ``(n, h, w)`` over each superpixel: ``(n, L)``."""
    if stack.shape[1:] == layout.index.shape:  # at full resolution: sums per superpixel
        index = layout.index.ravel()
        sums = np.stack([np.bincount(index, weights=one.ravel().astype(np.float64), minlength=len(layout.counts))
                         for one in stack])
        return sums / layout.counts
    # On a grid: by linearity. torch's matmul, not NumPy's: NumPy's BLAS threads
    # keep spinning after a product and slow down the network's next forward pass.
    P = _weights(layout, stack.shape[1:])
    grid = torch.from_numpy(np.ascontiguousarray(stack.reshape(len(stack), -1), dtype=np.float64))
    return torch.matmul(grid, torch.from_numpy(P).T).numpy()


def superpixel_means(cams, segments) -> np.ndarray:
    r"""The means over each superpixel, :math:`\bar M_c(s)`, as :func:`tutorial_utils.secam.superpixel_means`, fast.

    >>> superpixel_means(np.ones((2, 1, 1)), np.array([[5, 5, 9], [5, 7, 9]])).shape   # a stack on a 1×1 grid
    (2, 3)

    Raises what :func:`as_map_array` and :func:`as_segments` raise.
    """
    m = as_map_array(cams, "cams")
    means = _means(m[None] if m.ndim == 2 else m, _layout(as_segments(segments)))
    return means[0] if m.ndim == 2 else means


def secam_from_grid(cams, segments) -> np.ndarray:
    """SeCAM of a feature-grid map ``(h, w)`` (or a stack ``(n, h, w)``) upsampled to ``segments``' size: ``float32``.

    The same as ``secam(upsample(cam, segments.shape), segments)`` up to rounding, without the
    upsampled map: the means by linearity, painted onto the pixels (a gather, as fast as upsampling).

    >>> secam_from_grid(np.array([[2.0]]), np.array([[4, 4], [9, 4]]))   # a 1×1 grid: constant
    array([[2., 2.],
           [2., 2.]], dtype=float32)
    """
    m = as_map_array(cams, "cam")
    layout = _layout(as_segments(segments))
    means = _means(m[None] if m.ndim == 2 else m, layout).astype(np.float32)
    painted = torch.index_select(torch.from_numpy(means), 1, layout.flat_index).numpy().reshape(-1, *layout.index.shape)
    return painted[0] if m.ndim == 2 else painted
