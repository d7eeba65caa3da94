r"""SeCAM: Class Activation Mapping averaged inside superpixels, at the speed of CAM.

SeCAM (Cao, Nguyen, Nguyen and Nguyen) replaces each pixel of an upsampled
class activation map by the mean of the map over the superpixel that contains
it, so that the explanation follows object boundaries:

.. math::

    \bar M_c(s) = \frac{1}{|s|} \sum_{(x, y) \in s} M_c(x, y).

The CAM must be upsampled to the image's full resolution first, and the
superpixels computed on the same RGB image (see the SeCAM chapter for what goes
wrong otherwise).

Upsampling and averaging are both linear, so the mean over a superpixel of the
*upsampled* map is a fixed weighted sum of the feature-grid values
:math:`M_c(i, j)`:

.. math::

    \bar M_c(s) = \sum_{i,j} P[s, ij]\, M_c(i, j), \qquad
    P[s, ij] = \frac{1}{|s|} \sum_{(y, x) \in s} R[y, i]\, C[x, j],

with :math:`R` and :math:`C` the 1-D interpolation matrices of
:func:`tutorial_utils.maps.upsample`. :math:`P` depends only on the superpixels
and the grid size: :func:`superpixel_means` computes it once per segmentation,
and then every class costs one small matrix product, with no full-resolution
map until one is drawn (``secam(cam, segments, from_grid=True)``).

>>> segments = np.array([[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 2, 2], [2, 2, 2, 2]])
>>> grid = np.array([[0.0, 4.0], [8.0, 8.0]])            # a 2×2 feature grid
>>> superpixel_means(grid, segments)                       # upsampled to 4×4, then averaged
array([1.4375, 4.0625, 7.25  ])
>>> np.allclose(secam(grid, segments, from_grid=True), secam(upsample(grid, segments.shape), segments))
True
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import torch

from .checks import as_map_array, as_numpy
from .maps import interpolation_matrix

__all__ = ["clear_superpixel_cache", "secam", "superpixel_means"]

#: Segmentations whose layout is kept (the most recently used ones).
CACHE_SIZE = 8


def _as_segments(segments) -> np.ndarray:
    seg = as_numpy(segments, "segments")
    if seg.ndim != 2 or 0 in seg.shape:
        raise ValueError(f"segments must be a 2-D label image (H, W), got shape {seg.shape}")
    if not np.issubdtype(seg.dtype, np.integer):
        raise TypeError(f"segments must hold integer labels, got dtype {seg.dtype}")
    return seg


# --------------------------------------------------------------------------- #
# What depends only on the segmentation, computed once and kept
# --------------------------------------------------------------------------- #


@dataclass
class _Layout:
    """A segmentation's labels numbered 0 … L-1, their sizes, and its runs of equal labels along each row."""

    source: np.ndarray  # a private copy: a cached layout is used only for segments equal to it
    index: np.ndarray  # H×W, 0 … L-1 in sorted label order
    flat_index: torch.Tensor  # the same, flat, int64, for painting
    counts: np.ndarray  # pixels per superpixel, L
    run_label: np.ndarray  # for every run of one label within a row: its label,
    run_row: np.ndarray  # its row,
    run_start: np.ndarray  # its first column
    run_stop: np.ndarray  # and one past its last column
    by_label: np.ndarray  # the runs ordered by label (stable)
    first_of_label: np.ndarray  # where each label's runs start in that order
    weights: dict = field(default_factory=dict)  # (h, w) → P, L×hw
    lock: threading.Lock = field(default_factory=threading.Lock)


def _layout_of(seg: np.ndarray) -> _Layout:
    height, width = seg.shape
    source = np.array(seg, order="C")  # a private copy: nothing below may share the caller's memory
    flat = source.ravel()
    low, high = int(flat.min()), int(flat.max())
    if low >= 0 and high < 4 * flat.size:
        counts = np.bincount(flat)
        present = counts > 0
        if present.all():
            index = flat
        else:  # labels with gaps: number the present ones 0 … L-1 in order
            index = (np.cumsum(present) - 1)[flat]
            counts = counts[present]
    else:  # negative or huge labels: sort them (several times slower)
        _, index, counts = np.unique(flat, return_inverse=True, return_counts=True)
    index = index.reshape(height, width)
    # A run starts at every column 0 and wherever the label changes along a row.
    starts = np.zeros((height, width), dtype=bool)
    starts[:, 0] = True
    starts[:, 1:] = index[:, 1:] != index[:, :-1]
    rows, cols = np.nonzero(starts)
    stops = np.empty_like(cols)
    stops[:-1] = np.where(rows[1:] == rows[:-1], cols[1:], width)
    stops[-1] = width
    run_label = index[rows, cols]
    by_label = np.argsort(run_label, kind="stable")
    first_of_label = np.searchsorted(run_label[by_label], np.arange(len(counts)))
    return _Layout(source, index, torch.from_numpy(index.ravel().astype(np.int64)), counts,
                   run_label, rows, cols, stops, by_label, first_of_label)


_cache: list[_Layout] = []
_cache_lock = threading.Lock()


def _equal(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images are equal, value by value (torch's comparison, twice NumPy's speed)."""
    if a.shape != b.shape:
        return False
    if a.dtype == b.dtype and b.flags.c_contiguous:
        try:
            return torch.equal(torch.from_numpy(a), torch.from_numpy(b))
        except (TypeError, RuntimeError):  # a dtype torch cannot compare
            pass
    return bool(np.array_equal(a, b))


def _layout(seg: np.ndarray) -> _Layout:
    """The layout of ``seg``, from the cache when an equal segmentation was seen (compared value by value)."""
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
    """Forget every segmentation's layout kept by :func:`superpixel_means` (to time the first call, for example).

    >>> clear_superpixel_cache()
    """
    with _cache_lock:
        _cache.clear()


def _weights(layout: _Layout, grid: tuple[int, int]) -> np.ndarray:
    r"""P (L × hw): the mean over each superpixel of each grid cell's bilinear interpolation weight.

    A run of superpixel :math:`s` in row :math:`y` from column :math:`x_0` to
    :math:`x_1` adds :math:`R[y, i] \sum_{x_0 \le x < x_1} C[x, j]` to
    :math:`|s|\,P[s, ij]`; the column sums come from prefix sums of :math:`C`.
    """
    with layout.lock:
        if grid not in layout.weights:
            h, w = grid
            height, width = layout.index.shape
            R = interpolation_matrix(h, height).numpy().astype(np.float64)  # height × h
            C = interpolation_matrix(w, width).numpy().astype(np.float64)  # width × w
            C_sum = np.zeros((width + 1, w))
            np.cumsum(C, axis=0, out=C_sum[1:])
            order = layout.by_label
            across = C_sum[layout.run_stop[order]] - C_sum[layout.run_start[order]]  # runs × w
            per_run = R[layout.run_row[order]][:, :, None] * across[:, None, :]  # runs × h × w
            sums = np.add.reduceat(per_run.reshape(len(order), h * w), layout.first_of_label, axis=0)
            layout.weights[grid] = sums / layout.counts[:, None]
        return layout.weights[grid]


def _paint(values: np.ndarray, layout: _Layout) -> np.ndarray:
    """Superpixel values ``(n, L)`` painted onto the pixels: ``(n, H, W)`` (a gather, as fast as upsampling)."""
    painted = torch.index_select(torch.from_numpy(np.ascontiguousarray(values)), 1, layout.flat_index)
    return painted.numpy().reshape(len(values), *layout.index.shape)


# --------------------------------------------------------------------------- #
# Public
# --------------------------------------------------------------------------- #


def superpixel_means(cams, segments) -> np.ndarray:
    r"""The mean of each map over each superpixel, :math:`\bar M_c(s)`, in sorted label order: ``(L,)`` or ``(n, L)``.

    ``cams`` is one map ``(h, w)`` or a stack ``(n, h, w)``, either at the
    resolution of ``segments`` (averaged as it is) or on a feature grid of
    another size, which stands for its bilinear upsampling to ``segments``'
    size (as :func:`tutorial_utils.maps.upsample` does it) — computed by
    linearity, :math:`\bar M_c(s) = \sum_{ij} P[s, ij]\,M_c(i, j)`, without the
    full-resolution maps. ``segments`` is an integer label image ``H×W`` with
    :math:`L` distinct labels (any integers; gaps allowed).

    What depends only on the segmentation (its runs, :math:`P` for each grid
    size) is computed once and kept for the most recent segmentations; a new
    call finds it only if its ``segments`` are equal, value by value, so a
    label image changed in place is never served stale weights.

    >>> segments = np.array([[5, 5, 9], [5, 7, 9]])
    >>> superpixel_means(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), segments)   # at full size
    array([2.33333333, 5.        , 4.5       ])
    >>> superpixel_means(np.ones((2, 1, 1)), segments).shape                    # a stack on a 1×1 grid
    (2, 3)

    Raises ``ValueError`` for maps that are not 2-D or 3-D, hold NaN, or
    ``segments`` that are not a 2-D label image; ``TypeError`` for non-integer
    labels or non-numeric maps.
    """
    m = as_map_array(cams, "cams")
    seg = _as_segments(segments)
    means = _means(m[None] if m.ndim == 2 else m, _layout(seg))
    return means[0] if m.ndim == 2 else means


def _means(stack: np.ndarray, layout: _Layout) -> np.ndarray:
    """:func:`superpixel_means` of a checked stack ``(n, h, w)`` with its segmentation's layout: ``(n, L)``."""
    if stack.shape[1:] == layout.index.shape:  # at full resolution: sums per superpixel
        flat = stack.reshape(len(stack), -1).astype(np.float64)
        index = layout.index.ravel()
        sums = np.stack([np.bincount(index, weights=one, minlength=len(layout.counts)) for one in flat])
        means = sums / layout.counts
    else:  # on a grid: by linearity. torch's matmul, not NumPy's: NumPy's BLAS threads
        # keep spinning after a product and slow down the network's next forward pass.
        P = _weights(layout, stack.shape[1:])
        grid = torch.from_numpy(np.ascontiguousarray(stack.reshape(len(stack), -1), dtype=np.float64))
        means = torch.matmul(grid, torch.from_numpy(P).T).numpy()
    return means


def secam(cam, segments, *, from_grid: bool = False) -> np.ndarray:
    r"""Average a map inside each superpixel: :math:`\bar M_c(s) = \frac{1}{|s|}\sum_{(x,y)\in s} M_c(x,y)`.

    ``cam`` is a 2-D map at the image's resolution (for example
    ``upsample(class_activation_map(...), image)``); ``segments`` is an integer
    label image of the same shape (for example ``superpixels(image)``). Labels
    need not be contiguous or start at 0. Returns a ``float32`` map of the same
    shape in which every pixel holds the mean of ``cam`` over its superpixel —
    computed with ``np.bincount``, without a Python loop over segments
    (a few milliseconds for a 400×600 image).

    With ``from_grid=True``, ``cam`` is a feature-grid map ``(h, w)`` (or a stack
    ``(n, h, w)``) and the result is the SeCAM of its bilinear upsampling to
    ``segments``' size — the same as ``secam(upsample(cam, segments.shape),
    segments)`` up to rounding, computed through :func:`superpixel_means`
    without the upsampled map: as cheap as upsampling the CAM itself.

    >>> secam(np.array([[1.0, 3.0], [5.0, 7.0]]), np.array([[4, 4], [9, 4]]))
    array([[3.6666667, 3.6666667],
           [5.       , 3.6666667]], dtype=float32)
    >>> secam(np.array([[2.0]]), np.array([[4, 4], [9, 4]]), from_grid=True)   # a 1×1 grid: constant
    array([[2., 2.],
           [2., 2.]], dtype=float32)

    Raises
    ------
    ValueError
        ``cam`` and ``segments`` differ in shape (the message says to upsample the
        CAM to the image, or to pass ``from_grid=True``), are not 2-D, or ``cam``
        holds NaN or infinite values.
    TypeError
        ``segments`` is not an integer array, or ``cam`` is not numeric.
    """
    m = as_map_array(cam, "cam")  # numbers, finite, (h, w) or (n, h, w)
    seg = _as_segments(segments)
    if from_grid:
        layout = _layout(seg)
        painted = _paint(_means(m[None] if m.ndim == 2 else m, layout).astype(np.float32), layout)
        return painted[0] if m.ndim == 2 else painted
    if m.ndim != 2:
        raise ValueError(f"cam and segments must be 2-D maps, got shapes {m.shape} and {seg.shape} "
                         "(for a stack of feature-grid maps, pass from_grid=True)")
    if m.shape != seg.shape:
        raise ValueError(
            f"cam has shape {m.shape} but segments have shape {seg.shape}: upsample the CAM to "
            "the image the superpixels were computed on (upsample(cam, image)) — shrinking the "
            "segments to the CAM's grid instead loses most superpixels — or, for a map on the "
            "feature grid, pass from_grid=True"
        )
    # Sum and count per superpixel (np.bincount), with the labels numbered 0 … n-1
    # once per segmentation: the layout superpixel_means keeps.
    layout = _layout(seg)
    return _paint(_means(m[None], layout).astype(np.float32), layout)[0]
