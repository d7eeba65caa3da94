"""The book's rules: what the repository and its chapters must be, read from the files.

These tests read the notebooks, the pages, the configuration and the helper
package's source; they execute no chapter and need no built website. Among them:
every chapter has objectives, exercises and alt text, nothing typed that should
be computed, colour maps readable by everyone, the launch buttons and the install
cell work, the bibliography is cited, the cheat sheet's code computes what its
equations say, and the structure rules of ``test_structure.py`` (short modules,
no private names across modules, no helper defined twice, few skipped docstring
examples).

No download and no network: the session is cut off from this machine
like the unit tests' (``tests/isolation.py``: an empty torch cache, no
connection off loopback). The two rules that need a model (the model facts the
prose must not type, and the cheat sheet) use EfficientNet-Lite0, whose weights
ship in a Python package.
"""

from isolation import pytest_configure, pytest_unconfigure  # noqa: F401 - hooks of this directory
