"""The unit tests run cut off from this machine: no torch cache of its own, no network.

The hooks come from ``tests/isolation.py`` (which says exactly what is cut off, and
from when); ``tests/unit/test_isolation.py`` proves it. The fixtures below give each
test an empty ``TORCH_HOME`` of its own, and the small model many tests share.
The notebooks, the site tests and the browser test run in another pytest
invocation and do not load this file.
"""

from __future__ import annotations

from pathlib import Path

import isolation
import pytest
from isolation import pytest_configure, pytest_unconfigure  # noqa: F401 - hooks of this directory


@pytest.fixture(scope="session")
def isolated_home(pytestconfig) -> Path:
    """The session's temporary folder that holds TORCH_HOME, XDG_CACHE_HOME and HF_HOME."""
    return isolation.isolated_home(pytestconfig)


@pytest.fixture(autouse=True)
def _isolated_torch_home(tmp_path_factory, monkeypatch):
    # Each test also gets an empty TORCH_HOME of its own, so that a file one test
    # puts into the cache is not seen by the next.
    home = tmp_path_factory.mktemp("torch_home")
    monkeypatch.setenv("TORCH_HOME", str(home))
    yield home


@pytest.fixture(scope="session")
def lite():
    from tutorial_utils import load_model

    return load_model("efficientnet_lite0", verbose=False)


@pytest.fixture
def offline(monkeypatch):
    """Pretend the weights server is unreachable, whatever this machine's network; the URLs tried.

    Both ways to it fail and are recorded: ``book_tools.weights``' probe (``fetch-weights``) and the
    download that :func:`tutorial_utils.load_model` starts through ``torch.hub``.
    """
    import torch

    from book_tools import weights
    from tutorial_utils import models

    calls = []

    def probe(url, timeout):
        calls.append(url)
        return "simulated: no network"

    def download(url, *args, **kwargs):
        calls.append(url)
        raise OSError("simulated: no network")

    monkeypatch.setattr(weights, "_probe", probe)
    monkeypatch.setattr(weights, "_offline_reason", None)
    monkeypatch.setattr(torch.hub, "download_url_to_file", download)
    monkeypatch.setattr(models, "_unreachable", "")
    return calls
