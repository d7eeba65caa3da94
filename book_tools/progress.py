r"""Progress bars that work in JupyterLab and leave a clean line in the built book.

In JupyterLab (or a terminal) :func:`progress` is ``tqdm.auto.tqdm``: a live
bar that shows how far a long loop has come and how long the rest will take.

When the book is built, nobody watches the cell run, and a widget bar would be
saved into the page as a dead widget. With the environment variable
``CAM_BOOK_PROGRESS=summary`` (``make book`` and ``make test`` set it)
:func:`progress` draws nothing while the loop runs and prints one line when it
ends — what ran, how many steps, how long it took — which is what a reader of
the website wants to know.

>>> total = 0
>>> for i in progress(range(3), desc="adding", mode="summary"):  # doctest: +ELLIPSIS
...     total += i
adding: 3/3 steps in ... s
"""

from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

__all__ = ["PROGRESS_ENV", "progress"]

#: The environment variable that chooses the kind of progress report.
PROGRESS_ENV = "CAM_BOOK_PROGRESS"
_MODES = ("bar", "summary", "off")

T = TypeVar("T")


def _summary(iterable: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
    start, count = time.perf_counter(), 0
    for item in iterable:
        count += 1
        yield item
    steps = f"{count}/{total}" if total is not None else f"{count}"
    print(f"{desc or 'done'}: {steps} steps in {time.perf_counter() - start:.1f} s", file=sys.stdout, flush=True)


def progress(iterable: Iterable[T], *, desc: str = "", total: int | None = None, mode: str | None = None) -> Iterable[T]:
    """Wrap ``iterable`` in a progress report; iterate over it as usual.

    ``mode``: ``"bar"`` (``tqdm.auto``: a widget in JupyterLab, text in a
    terminal), ``"summary"`` (one line at the end: steps and seconds) or
    ``"off"``; ``None`` reads ``$CAM_BOOK_PROGRESS`` and defaults to
    ``"bar"``. ``total`` defaults to ``len(iterable)`` where it has one.

    Raises ``ValueError`` for an unknown mode (from the argument or the
    environment variable, which the message names).
    """
    source = "mode"
    if mode is None:
        mode, source = os.environ.get(PROGRESS_ENV, "bar").strip().lower() or "bar", f"${PROGRESS_ENV}"
    if mode not in _MODES:
        raise ValueError(f"{source} must be one of {', '.join(_MODES)}; got {mode!r}")
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if mode == "off":
        return iterable
    if mode == "summary":
        return _summary(iterable, total, desc)
    from tqdm.auto import tqdm

    return tqdm(iterable, desc=desc or None, total=total)
