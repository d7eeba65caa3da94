"""Shared set-up of every test directory.

The unit tests' isolation from this machine (an empty torch cache, no network)
lives in tests/unit/conftest.py: the notebooks, the site checks and the browser
test run in another pytest invocation, in kernels and a browser that need the
machine's own cache and loopback.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
# Let test modules import the small helpers that live beside this file.
sys.path.insert(0, str(Path(__file__).parent))
