"""Cut a pytest session off from this machine: no torch cache of its own, no network.

A pytest plugin. ``tests/unit/conftest.py`` and ``tests/book/conftest.py`` load its
hooks, and ``make test`` runs the docstring examples with ``-p isolation``. From the
start of the session (``pytest_configure``, before any test module is imported or
any fixture, of whatever scope, runs):

- ``TORCH_HOME``, ``XDG_CACHE_HOME`` and ``HF_HOME`` point into an empty temporary
  folder, and ``CAM_BOOK_MODEL`` is removed, so a ResNet50 checkpoint cached on the
  developer's machine cannot change what the tests see;
- every proxy variable points at a closed port of this machine, and ``NO_PROXY`` is
  removed, so an HTTP client that honours them fails at once;
- a socket may connect only to loopback addresses (and Unix sockets), and host
  names other than ``localhost`` do not resolve: anything else raises
  :class:`NetworkBlocked` at once, naming the address.

The set-up happens once per session, however many conftest files load the hooks,
and is undone at its end. Subprocesses inherit the environment, not the socket
guard. The notebooks, the site tests and the browser test run in other pytest
invocations, in kernels and a browser that need the machine's own cache and
loopback, and do not load this plugin. ``tests/unit/test_isolation.py`` proves all
of this.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import tempfile
from pathlib import Path

#: Variables pointed into the session's temporary folder.
CACHE_VARIABLES = ("TORCH_HOME", "XDG_CACHE_HOME", "HF_HOME")
#: Variables removed for the session.
REMOVED_VARIABLES = ("CAM_BOOK_MODEL", "NO_PROXY", "no_proxy")
#: Discard port of this machine: nothing listens there, so a proxied request is refused at once.
DEAD_PROXY = "http://127.0.0.1:9"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "ftp_proxy", "all_proxy",
                   "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY", "ALL_PROXY")


class NetworkBlocked(OSError):
    """A test tried to reach another machine."""


def _is_loopback(host) -> bool:
    if host in ("localhost", "localhost.", "", None):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:  # a host name: resolving it would already use the network
        return False


def _allowed(family, address) -> bool:
    if family == getattr(socket, "AF_UNIX", object()) or isinstance(address, (str, bytes)):
        return True
    return isinstance(address, tuple) and _is_loopback(address[0])


class _Guard:
    def __init__(self):
        self.saved: list[tuple[object, str, object]] = []

    def patch(self, owner, name, make):
        original = getattr(owner, name)
        self.saved.append((owner, name, original))
        setattr(owner, name, make(original))

    def restore(self):
        for owner, name, original in reversed(self.saved):
            setattr(owner, name, original)
        self.saved.clear()


def _block(what, address):
    raise NetworkBlocked(f"tests must not use the network: {what} {address!r} blocked by tests/isolation.py")


def _guard_connect(original):
    # socket.connect and socket.connect_ex: the same check, then the original call.
    def guarded(self, address):
        if not _allowed(self.family, address):
            _block("connection to", address)
        return original(self, address)

    return guarded


def _guard_getaddrinfo(original):
    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if not _is_loopback(name):
            try:
                ipaddress.ip_address(str(name).split("%")[0])  # an address literal needs no DNS
            except ValueError:
                _block("name lookup of", name)
        return original(host, *args, **kwargs)

    return getaddrinfo


def isolated_home(config) -> Path:
    """The session's temporary folder that holds TORCH_HOME, XDG_CACHE_HOME and HF_HOME."""
    return config._cam_book_isolation[0]


def pytest_configure(config):
    if getattr(config, "_cam_book_isolation", None) is not None:
        return  # a second conftest loading these hooks: the session is already cut off
    home = Path(tempfile.mkdtemp(prefix="cam-book-tests-"))
    saved = {name: os.environ.get(name) for name in CACHE_VARIABLES + REMOVED_VARIABLES + PROXY_VARIABLES}
    for name in CACHE_VARIABLES:
        (home / name.lower()).mkdir()
        os.environ[name] = str(home / name.lower())
    for name in REMOVED_VARIABLES:
        os.environ.pop(name, None)
    for name in PROXY_VARIABLES:
        os.environ[name] = DEAD_PROXY
    guard = _Guard()
    guard.patch(socket.socket, "connect", _guard_connect)
    guard.patch(socket.socket, "connect_ex", _guard_connect)
    guard.patch(socket, "getaddrinfo", _guard_getaddrinfo)
    config._cam_book_isolation = (home, saved, guard)


def pytest_unconfigure(config):
    state = getattr(config, "_cam_book_isolation", None)
    if state is None:
        return  # already undone by the first of the hooks' copies
    config._cam_book_isolation = None
    home, saved, guard = state
    guard.restore()
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    shutil.rmtree(home, ignore_errors=True)
