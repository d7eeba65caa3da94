"""The unit tests cannot see this machine's torch cache or reach the network (tests/isolation.py,
loaded by tests/unit/conftest.py; tests/book/conftest.py loads the same hooks)."""

import os
import socket
import tempfile
import urllib.request
from pathlib import Path

import pytest
import torch

from tutorial_utils import load_model, models
from book_tools import weights

SEEN_AT_IMPORT = {name: os.environ.get(name) for name in ("TORCH_HOME", "XDG_CACHE_HOME", "HF_HOME", "CAM_BOOK_MODEL")}


@pytest.fixture(scope="session")
def session_environment():
    # A session-scoped fixture runs before any function-scoped monkeypatching:
    # what it sees is what `lite` and module fixtures (tests/book's cheat sheet) see.
    return {name: os.environ.get(name) for name in SEEN_AT_IMPORT} | {"hub": torch.hub.get_dir()}


def test_caches_are_empty_temporary_folders_from_the_start(session_environment, isolated_home):
    temp = Path(tempfile.gettempdir()).resolve()
    assert isolated_home.resolve().is_relative_to(temp)
    for seen in (SEEN_AT_IMPORT, session_environment):
        for name in ("TORCH_HOME", "XDG_CACHE_HOME", "HF_HOME"):
            assert Path(seen[name]).resolve().is_relative_to(isolated_home.resolve()), (name, seen[name])
        assert seen["CAM_BOOK_MODEL"] is None
    assert Path(session_environment["hub"]).resolve().is_relative_to(isolated_home.resolve())
    assert not any((isolated_home / "torch_home").rglob("*.pth"))


def test_each_test_also_has_an_empty_torch_home_of_its_own(_isolated_torch_home):
    assert Path(torch.hub.get_dir()).parent == _isolated_torch_home
    assert not any(_isolated_torch_home.iterdir())


@pytest.mark.parametrize("address", [("192.0.2.1", 443), ("8.8.8.8", 53), ("10.0.0.1", 80)])
def test_connecting_to_another_machine_raises_at_once(address):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        with pytest.raises(OSError, match="must not use the network"):
            s.connect(address)
        with pytest.raises(OSError, match="must not use the network"):
            s.connect_ex(address)
    with pytest.raises(OSError, match="must not use the network"):
        socket.create_connection(address, timeout=1)


def test_host_names_do_not_resolve():
    with pytest.raises(OSError, match="must not use the network"):
        socket.getaddrinfo("download.pytorch.org", 443)
    with pytest.raises(OSError):
        urllib.request.urlopen("https://download.pytorch.org/models/resnet50-11ad3fa6.pth", timeout=2)


def test_proxies_point_at_a_closed_local_port():
    proxies = urllib.request.getproxies()
    assert proxies["https"] == proxies["http"] == "http://127.0.0.1:9"


def test_loopback_still_works():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            conn, _ = server.accept()
            conn.close()
    with socket.socket() as server:
        server.bind(("localhost", 0))
        server.listen(1)
        socket.create_connection(("localhost", server.getsockname()[1]), timeout=2).close()


def test_auto_model_falls_back_without_waiting_for_the_network(monkeypatch):
    monkeypatch.setattr(models, "_unreachable", "")
    model = load_model(verbose=False)
    assert model.name == "efficientnet_lite0"
