r"""Pretrained torchvision weights, read from torch's cache only after they are checked.

torchvision names every weights file after its own content: the digits after the
last dash are the first hex digits of the file's SHA-256,

.. math::

    \texttt{resnet50-11ad3fa6.pth} \;\Rightarrow\;
    \operatorname{sha256}(\text{file})\ \text{starts with}\ \texttt{11ad3fa6}.

torchvision checks this while it downloads a file, but not when it finds the file
already in the cache. A cached file can be half a download, a file copied in by
hand from the wrong place, or a pickle crafted to run code when it is loaded. So
this module checks the prefix of every cached file before reading it, and reads
it with ``torch.load(path, map_location="cpu", weights_only=True)``, which
restores tensors and plain containers and refuses any other Python object.

The cache is torch's: ``$TORCH_HOME/hub/checkpoints`` (default
``~/.cache/torch/hub/checkpoints``), where torchvision itself puts the files, so a
file downloaded by torchvision on a reader's machine is found here and the other
way round.

>>> from torchvision.models import ResNet50_Weights, resnet50
>>> cached_weights_path(ResNet50_Weights.DEFAULT).name
'resnet50-11ad3fa6.pth'
>>> # needs the file in the cache (downloaded once on a machine with internet)
>>> net = load_pretrained(resnet50, ResNet50_Weights.DEFAULT)   # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import inspect
import pickle
import re
import socket
import threading
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlparse

import torch
from torch import nn

from tutorial_utils.models import WeightsUnavailableError

__all__ = [
    "CorruptWeightsError",
    "WeightsUnavailableError",
    "cached_weights_path",
    "download_weights",
    "expected_sha256_prefix",
    "fetch_resnet50_weights",
    "load_pretrained",
    "load_state_dict",
    "resnet50_weights",
    "resnet50_weights_path",
    "verify_weights_file",
]

#: torch.hub's rule for the hash in a weights file name: ``<name>-<hex digits>.<ext>``.
HASH_IN_NAME = re.compile(r"-([a-f0-9]+)\.")
#: The command that downloads the book's ResNet50 weights again.
FETCH_COMMAND = "python -m tutorial_utils fetch-weights"
#: Seconds to wait for the weights server before deciding we are offline.
PROBE_TIMEOUT = 5.0
#: Seconds a stalled download may stay silent before it is abandoned.
DOWNLOAD_TIMEOUT = 60.0


class CorruptWeightsError(WeightsUnavailableError):
    """A cached weights file failed its check: wrong SHA-256, or not a plain file of tensors.

    ``err.path`` is the file. Delete it and download it again.
    """

    def __init__(self, message: str, cause: str, path: Path) -> None:
        super().__init__(message, cause)
        self.path = path


def _advice(path: Path) -> str:
    return (
        f"Delete {path} and download it again: run `{FETCH_COMMAND}` for ResNet50, or load the "
        "weights once with torchvision on a machine with internet (it checks the hash while "
        "downloading) and copy the file into this folder."
    )


def cached_weights_path(weights: Any) -> Path:
    """Where torchvision caches a weights enum's file (the file may not exist).

    It is ``<torch hub dir>/checkpoints/<file name of weights.url>``, the place
    ``weights.get_state_dict()`` downloads to; the hub directory is
    ``$TORCH_HOME/hub``, by default ``~/.cache/torch/hub``.

    >>> from torchvision.models import ResNet50_Weights
    >>> cached_weights_path(ResNet50_Weights.DEFAULT).parent.name
    'checkpoints'
    """
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name


def expected_sha256_prefix(path: str | Path) -> str:
    """The SHA-256 prefix a weights file's name promises: ``resnet50-11ad3fa6.pth`` → ``"11ad3fa6"``.

    >>> expected_sha256_prefix("lraspp_mobilenet_v3_large-d234d4ea.pth")
    'd234d4ea'

    Raises
    ------
    ValueError
        The name carries no hash (``<name>-<hex digits>.<ext>``), so the file
        cannot be checked.
    """
    name = Path(path).name
    match = HASH_IN_NAME.search(name)
    if match is None:
        raise ValueError(
            f"the file name {name!r} carries no SHA-256 prefix (torchvision names its weights "
            "<name>-<first hex digits of the SHA-256>.pth), so the file cannot be checked"
        )
    return match.group(1)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_weights_file(path: str | Path) -> str:
    r"""Check that the SHA-256 of ``path`` starts with the prefix in its name; return the full digest.

    .. math::

        \operatorname{sha256}(\text{file})[{:}n] = \text{prefix}, \qquad n = \text{len}(\text{prefix}).

    Raises
    ------
    FileNotFoundError
        There is no such file.
    CorruptWeightsError
        The digest does not start with the prefix: the file is incomplete,
        damaged, or another file under this name.
    ValueError
        The name carries no prefix to check against.
    """
    path = Path(path)
    prefix = expected_sha256_prefix(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    digest = _sha256(path)
    if not digest.startswith(prefix):
        raise CorruptWeightsError(
            f"The weights file {path} is corrupt or not the expected file: its name promises a "
            f"SHA-256 starting with {prefix}, but its SHA-256 is {digest} "
            f"({path.stat().st_size:,} bytes). {_advice(path)}",
            f"the cached weights file {path.name} is corrupt or not the expected file (SHA-256 mismatch)",
            path,
        )
    return digest


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a cached weights file after checking its SHA-256: ``torch.load(..., weights_only=True)``.

    The file is loaded onto the CPU and only tensors and plain containers are
    restored; a pickle that holds any other Python object is refused, so loading
    a file can never run code.

    Raises
    ------
    FileNotFoundError, ValueError
        As :func:`verify_weights_file`.
    CorruptWeightsError
        The SHA-256 does not match the name, or the file holds objects other
        than tensors.
    """
    path = Path(path)
    verify_weights_file(path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CorruptWeightsError(
            f"Refused to load {path}: torch.load(weights_only=True) found Python objects other "
            f"than tensors in it ({str(err).splitlines()[0]}). A weights file holds tensors only; "
            f"this one is not the expected file. {_advice(path)}",
            f"the cached weights file {path.name} holds objects other than tensors",
            path,
        ) from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CorruptWeightsError(
            f"{path} is not a state dict (a mapping of names to tensors) but a "
            f"{type(state).__name__}. {_advice(path)}",
            f"the cached weights file {path.name} is not a state dict",
            path,
        )
    return state


def download_weights(weights: Any, *, progress: bool = True) -> Path:
    """Download a weights enum's file into torch's cache, checking its SHA-256 as it arrives.

    This is what ``torchvision`` does with ``check_hash=True``:
    :func:`torch.hub.download_url_to_file` writes to a temporary file and moves it
    into place only if the digest starts with the prefix in the file name.

    Raises
    ------
    OSError, urllib.error.URLError
        No network, or the server did not answer.
    RuntimeError
        The download's SHA-256 does not match (nothing is written to the cache).
    """
    path = cached_weights_path(weights)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(weights.url, str(path), hash_prefix=expected_sha256_prefix(path), progress=progress)
    return path


def load_pretrained(builder: Callable[..., nn.Module], weights: Any, *, download: bool = False,
                    progress: bool = True, **kwargs: Any) -> nn.Module:
    """A torchvision model with pretrained weights read through :func:`load_state_dict`.

    Equivalent to ``builder(weights=weights)``, except that a cached file is
    checked (SHA-256 prefix, ``weights_only=True``) before it is read. The model
    is built with ``weights=None`` and as many classes as ``weights`` has
    categories, without any backbone weights, and then given the state dict.
    Returned in ``eval`` mode.

    >>> from torchvision.models.segmentation import (
    ...     LRASPP_MobileNet_V3_Large_Weights, lraspp_mobilenet_v3_large)
    >>> seg_weights = LRASPP_MobileNet_V3_Large_Weights.DEFAULT
    >>> # needs the file in the cache (downloaded once on a machine with internet)
    >>> voc = load_pretrained(lraspp_mobilenet_v3_large, seg_weights)   # doctest: +SKIP

    ``download=True`` downloads a missing file first (:func:`download_weights`).

    Raises
    ------
    WeightsUnavailableError
        The file is not cached and ``download`` is false.
    CorruptWeightsError
        The cached file failed its check.
    """
    path = cached_weights_path(weights)
    if not path.is_file():
        if not download:
            raise WeightsUnavailableError(
                f"The weights {weights} are not cached at {path}. Download them once on a machine "
                f"with internet ({weights.url}) and put the file there, or call with download=True.",
                f"the weights file {path.name} is not cached",
            )
        download_weights(weights, progress=progress)
    state = load_state_dict(path)
    parameters = inspect.signature(builder).parameters
    kwargs.setdefault("num_classes", len(weights.meta["categories"]))
    if "weights_backbone" in parameters:
        kwargs.setdefault("weights_backbone", None)
    if "aux_loss" in parameters and any(k.startswith("aux_classifier.") for k in state):
        kwargs.setdefault("aux_loss", True)
    net = builder(weights=None, **kwargs)
    net.load_state_dict(state)
    return net.eval()


# ---------------------------------------------------------------- ResNet50
def resnet50_weights() -> Any:
    """torchvision's ``ResNet50_Weights.DEFAULT``: the URL, transforms and class names of the book's weights.

    Metadata only: calling it downloads nothing.

    >>> resnet50_weights().meta["categories"][967]
    'espresso'
    """
    from torchvision.models import ResNet50_Weights

    return ResNet50_Weights.DEFAULT


def resnet50_weights_path() -> Path:
    """Where torchvision caches the ResNet50 weights: :func:`tutorial_utils.models.resnet50_weights_path`, by the enum."""
    return cached_weights_path(resnet50_weights())


def _probe(url: str, timeout: float) -> str | None:
    """Return None if ``url``'s host accepts a TCP connection within ``timeout`` s, else why not.

    Runs in a thread because name resolution ignores socket timeouts and can hang.
    """
    import urllib.request

    parsed = urlparse(url)
    host, port = parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)
    proxy = urllib.request.getproxies().get(parsed.scheme)
    if proxy and not urllib.request.proxy_bypass(host):
        # Behind a proxy the weights server itself is not reachable directly,
        # but the download (through the proxy) may still work: probe the proxy.
        proxied = urlparse(proxy if "://" in proxy else f"http://{proxy}")
        host, port = proxied.hostname, proxied.port or 80
    result: list[str | None] = ["timed out after %.0f s" % timeout]

    def attempt() -> None:
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            result[0] = None
        except OSError as err:
            result[0] = f"{type(err).__name__}: {err}"

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return result[0]


_offline_reason: str | None = None  # remembered for this process once the server was unreachable


def _unavailable(cause: str, advice: str) -> WeightsUnavailableError:
    return WeightsUnavailableError(f"{cause[0].upper()}{cause[1:]}. {advice}", cause)


def fetch_resnet50_weights() -> Path:
    """Make sure the ResNet50 ImageNet weights are in torch's cache, downloading them once; return their path.

    A cached file is returned as it is (:func:`load_pretrained` checks it before
    reading it). Otherwise the weights server is probed first, for at most
    :data:`PROBE_TIMEOUT` seconds in a background thread (name resolution ignores
    socket timeouts), through the proxy if one is set; once it was found
    unreachable, this process does not ask again. Then the file is downloaded
    with its SHA-256 checked as it arrives, abandoning a download silent for
    :data:`DOWNLOAD_TIMEOUT` seconds. ``python -m tutorial_utils fetch-weights``
    calls this.

    >>> # downloads 100 MB where the file is missing
    >>> fetch_resnet50_weights()   # doctest: +SKIP
    PosixPath('/home/me/.cache/torch/hub/checkpoints/resnet50-11ad3fa6.pth')

    Raises
    ------
    WeightsUnavailableError
        The file is not cached and the server cannot be reached, or the download
        failed; the message says where to put the file by hand.
    """
    global _offline_reason
    enum = resnet50_weights()
    path = resnet50_weights_path()
    if path.is_file():
        return path
    reason = _offline_reason or _probe(enum.url, PROBE_TIMEOUT)
    if reason is not None:
        _offline_reason = reason
        raise _unavailable(
            f"the ResNet50 weights are not cached at {path} and could not be downloaded "
            f"({urlparse(enum.url).hostname}: {reason})",
            f"Put the file {path.name} in {path.parent} (download it from {enum.url} "
            f"on a machine with internet, or run `{FETCH_COMMAND}` "
            "there), or point TORCH_HOME to a folder whose hub/checkpoints holds it.",
        )
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        # torch.hub's download, as torchvision's check_hash=True: the file is moved
        # into the cache only if its SHA-256 matches the prefix in its name.
        download_weights(enum, progress=True)
    except Exception as err:  # network drop mid-download, bad hash…
        raise _unavailable(
            f"the ResNet50 weights could not be downloaded ({type(err).__name__}: {err})",
            f"Try again, or put the file {path.name} in {path.parent} "
            f"(download it from {enum.url} on a machine with internet).",
        ) from err
    finally:
        socket.setdefaulttimeout(previous)
    return path
