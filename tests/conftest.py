"""Shared set-up of every test directory.

pytest's ``pythonpath`` (pyproject.toml) puts this folder and the repository root
on ``sys.path``, so test modules import the small helpers that live beside this
file (``book_layout``, ``isolation``) and the packages by name.

The unit tests and the book's rules are cut off from this machine (an empty torch
cache, no network) by ``tests/isolation.py``, which ``tests/unit/conftest.py`` and
``tests/book/conftest.py`` load: the notebooks, the site checks and the browser
test run in another pytest invocation, in kernels and a browser that need the
machine's own cache and loopback.
"""

import matplotlib

matplotlib.use("Agg")
