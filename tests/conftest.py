"""Shared fixtures. Tests never touch the network or the user's torch cache."""

import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")
# Let test modules import the small helpers that live beside this file.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _isolated_torch_home(tmp_path_factory, monkeypatch):
    # An empty TORCH_HOME: a ResNet50 checkpoint cached on the developer's machine
    # must not change what the tests see.
    home = tmp_path_factory.mktemp("torch_home")
    monkeypatch.setenv("TORCH_HOME", str(home))
    monkeypatch.delenv("CAM_BOOK_MODEL", raising=False)
    yield home


@pytest.fixture(scope="session")
def lite():
    from tutorial_utils import load_model

    return load_model("efficientnet_lite0", verbose=False)
