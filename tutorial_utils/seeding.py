r"""One seed for a whole chapter, read from the environment.

Every chapter calls :func:`set_seed` once, at the top. It reads the seed from
the environment variable ``CAM_BOOK_SEED`` (0 when it is not set), seeds
Python's :mod:`random`, NumPy's global generator and PyTorch with it, and
returns it, so that every other random number of the chapter — generated data
sets, training batches, random maps, randomised weights — is drawn from a seed
derived from it (``SEED``, ``SEED + 1``, …).

The same seed on the same machine gives the same numbers. Another seed, another
thread count or another CPU gives slightly different numbers, and the chapters'
checks are written to hold for all of them: ``make test`` builds the book with
seed 0 and the machine's threads, then runs every chapter again with seed 1 on
one thread.

>>> seed = set_seed(3, verbose=False)
>>> seed, int(np.random.randint(1000)) == int(np.random.RandomState(3).randint(1000))
(3, True)

If ``OMP_NUM_THREADS`` is set, PyTorch is told to use that many threads as
well (it reads the variable only when it starts, and a kernel may have
started before the variable was changed).
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["SEED_ENV", "book_seed", "set_seed"]

#: The environment variable that chooses the seed of every chapter.
SEED_ENV = "CAM_BOOK_SEED"


def _check_seed(value, what: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{what} must be a whole number, got {type(value).__name__} {value!r}")
    if not 0 <= int(value) < 2**32:
        raise ValueError(f"{what} must lie between 0 and 2**32 - 1, got {value}")
    return int(value)


def book_seed() -> int:
    """The chapter seed: the value of ``CAM_BOOK_SEED``, or 0 when it is unset or empty.

    >>> os.environ.pop(SEED_ENV, None) and None
    >>> book_seed()
    0

    Raises ``ValueError`` naming the variable when it is not a whole number
    between 0 and 2³² − 1.
    """
    text = os.environ.get(SEED_ENV, "").strip()
    if not text:
        return 0
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{SEED_ENV} must be a whole number such as 0 or 1, got {text!r}") from None
    return _check_seed(value, SEED_ENV)


def _threads_from_environment() -> int | None:
    text = os.environ.get("OMP_NUM_THREADS", "").strip()
    if not text:
        return None
    try:
        threads = int(text)
    except ValueError:
        raise ValueError(f"OMP_NUM_THREADS must be a positive whole number, got {text!r}") from None
    if threads < 1:
        raise ValueError(f"OMP_NUM_THREADS must be a positive whole number, got {text!r}")
    return threads


def set_seed(seed: int | None = None, *, verbose: bool = True) -> int:
    """Seed Python's ``random``, NumPy and PyTorch with one number, and return it.

    ``seed`` defaults to :func:`book_seed` (the variable ``CAM_BOOK_SEED``).
    With ``verbose`` it prints one line: the seed and PyTorch's thread count,
    the two things that decide which numbers a chapter computes.

    >>> set_seed(0, verbose=False)
    0

    Raises ``TypeError``/``ValueError`` for a seed that is not a whole number in
    [0, 2³²), and ``ValueError`` naming the variable for a bad ``CAM_BOOK_SEED``
    or ``OMP_NUM_THREADS``.
    """
    seed = book_seed() if seed is None else _check_seed(seed, "seed")
    threads = _threads_from_environment()
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if verbose:
        n = torch.get_num_threads()
        print(f"Random seed {seed} ({SEED_ENV}); PyTorch computes with {n} thread{'s' if n != 1 else ''}.")
    return seed
