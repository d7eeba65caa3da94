r"""One seed for a whole chapter, read from the environment.

Every chapter calls :func:`set_seed` once, at the top, and draws every other random
number from a seed derived from it (``SEED``, ``SEED + 1``, …). The chapters' checks
hold for any seed, thread count and CPU: ``make test`` runs them with seeds 0 and 1.

>>> seed = set_seed(3, verbose=False)
>>> seed, int(np.random.randint(1000)) == int(np.random.RandomState(3).randint(1000))
(3, True)
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .checks import seed_int

__all__ = ["SEED_ENV", "book_seed", "set_seed"]

#: The environment variable that chooses the seed of every chapter.
SEED_ENV = "CAM_BOOK_SEED"


def _env_int(variable: str, what: str, minimum: int) -> int | None:
    """The whole number ≥ ``minimum`` in environment variable ``variable``, or ``None`` when it is unset or empty."""
    text = os.environ.get(variable, "").strip()
    if not text:
        return None
    if not text.isdecimal() or int(text) < minimum:
        raise ValueError(f"{variable} must be {what}, got {text!r}")
    return int(text)


def book_seed() -> int:
    """The chapter seed: the value of ``CAM_BOOK_SEED``, or 0 when it is unset or empty.

    >>> os.environ.pop(SEED_ENV, None) and None
    >>> book_seed()
    0

    Raises ``ValueError`` naming the variable unless it is a whole number in ``0 … 2**32 - 1``.
    """
    value = _env_int(SEED_ENV, "a whole number such as 0 or 1", 0)
    return 0 if value is None else seed_int(value, SEED_ENV)


def set_seed(seed: int | None = None, *, verbose: bool = True) -> int:
    """Seed Python's ``random``, NumPy and PyTorch with one number (default: :func:`book_seed`), and return it.

    If ``OMP_NUM_THREADS`` is set, PyTorch is told to use that many threads too (it
    reads the variable only at start-up). With ``verbose`` it prints the seed and the
    thread count: the two things that decide which numbers a chapter computes.

    >>> set_seed(0, verbose=False)
    0

    Raises ``TypeError``/``ValueError`` for a seed outside ``0 … 2**32 - 1``, and
    ``ValueError`` naming the variable for a bad ``CAM_BOOK_SEED`` or ``OMP_NUM_THREADS``.
    """
    seed = book_seed() if seed is None else seed_int(seed)
    threads = _env_int("OMP_NUM_THREADS", "a positive whole number", 1)
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if verbose:
        n = torch.get_num_threads()
        print(f"Random seed {seed} ({SEED_ENV}); PyTorch computes with {n} thread{'s' if n != 1 else ''}.")
    return seed
