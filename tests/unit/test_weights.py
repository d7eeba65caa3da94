"""Cached weights are read only after their SHA-256 matches their name, and only as tensors."""

import hashlib
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from torchvision.models.segmentation import LRASPP_MobileNet_V3_Large_Weights, lraspp_mobilenet_v3_large

from tutorial_utils import load_model, models
from book_tools import weights
from book_tools.weights import (
    CorruptWeightsError,
    WeightsUnavailableError,
    cached_weights_path,
    expected_sha256_prefix,
    load_pretrained,
    load_state_dict,
    verify_weights_file,
)

EXECUTED = []


class Payload:
    """A pickle that runs code when it is loaded without weights_only."""

    def __reduce__(self):
        return (EXECUTED.append, ("the pickle ran code",))


def _checkpoints() -> Path:
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _save_named_by_hash(obj, stem: str) -> Path:
    """torch.save ``obj`` into the cache under torchvision's name: ``<stem>-<sha256[:8]>.pth``."""
    scratch = _checkpoints() / f"{stem}.tmp"
    torch.save(obj, scratch)
    prefix = hashlib.sha256(scratch.read_bytes()).hexdigest()[:8]
    return scratch.rename(scratch.with_name(f"{stem}-{prefix}.pth"))


def _fake_weights(path: Path, categories: int):
    """A stand-in for a torchvision weights enum whose file is ``path``."""
    return SimpleNamespace(url=f"https://weights.invalid/models/{path.name}",
                           meta={"categories": [f"class {i}" for i in range(categories)]})


def test_the_cache_is_the_isolated_torch_home(_isolated_torch_home):
    path = cached_weights_path(LRASPP_MobileNet_V3_Large_Weights.DEFAULT)
    assert path.is_relative_to(_isolated_torch_home)
    assert path.name == "lraspp_mobilenet_v3_large-d234d4ea.pth"
    assert expected_sha256_prefix(path) == "d234d4ea"
    assert expected_sha256_prefix(models.resnet50_weights_path()) == "11ad3fa6"


def test_a_file_whose_hash_matches_its_name_loads():
    state = {"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.ones(2)}
    path = _save_named_by_hash(state, "tiny")
    assert verify_weights_file(path).startswith(expected_sha256_prefix(path))
    loaded = load_state_dict(path)
    assert loaded.keys() == state.keys()
    for key in state:
        torch.testing.assert_close(loaded[key], state[key])
        assert loaded[key].device.type == "cpu"


def test_wrong_content_is_a_clear_error():
    path = _save_named_by_hash({"weight": torch.zeros(3)}, "tiny")
    path.write_bytes(path.read_bytes()[:-10])  # half a download
    with pytest.raises(CorruptWeightsError) as err:
        load_state_dict(path)
    message = str(err.value)
    assert str(path) in message
    assert "corrupt or not the expected file" in message
    assert f"Delete {path}" in message and "python -m tutorial_utils fetch-weights" in message
    assert err.value.path == path and isinstance(err.value, WeightsUnavailableError)


def test_a_file_under_another_files_name_is_refused():
    path = _save_named_by_hash({"weight": torch.zeros(3)}, "tiny")
    impostor = path.with_name("resnet50-11ad3fa6.pth")
    path.rename(impostor)
    with pytest.raises(CorruptWeightsError, match="SHA-256 starting with 11ad3fa6"):
        load_state_dict(impostor)


def test_a_pickle_with_other_objects_is_refused_by_weights_only():
    path = _save_named_by_hash({"weight": torch.zeros(3), "extra": Payload()}, "tiny")
    verify_weights_file(path)  # its hash matches its name: only weights_only stands in the way
    with pytest.raises(CorruptWeightsError, match="objects other than tensors") as err:
        load_state_dict(path)
    assert isinstance(err.value.__cause__, pickle.UnpicklingError)
    assert EXECUTED == []


def test_a_file_that_is_not_a_state_dict_is_refused():
    path = _save_named_by_hash([torch.zeros(3)], "tiny")
    with pytest.raises(CorruptWeightsError, match="not a state dict"):
        load_state_dict(path)


def test_a_name_without_a_hash_cannot_be_checked():
    path = _checkpoints() / "my_weights.pth"
    torch.save({"w": torch.zeros(1)}, path)
    with pytest.raises(ValueError, match="carries no SHA-256 prefix"):
        load_state_dict(path)


def test_torch_load_is_called_with_weights_only(monkeypatch):
    path = _save_named_by_hash({"w": torch.zeros(1)}, "tiny")
    calls = []
    real = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_state_dict(path)
    assert calls == [{"map_location": "cpu", "weights_only": True}]


# ------------------------------------------------------- whole models from the cache
def test_load_pretrained_builds_lraspp_from_a_checked_file():
    torch.manual_seed(0)
    reference = lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3).eval()
    path = _save_named_by_hash(reference.state_dict(), "lraspp_mobilenet_v3_large")
    # No backbone weights are fetched (that would hit the network guard) and the head
    # gets as many classes as the weights have categories.
    net = load_pretrained(lraspp_mobilenet_v3_large, _fake_weights(path, 3))
    assert not net.training
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(net(x)["out"], reference(x)["out"])


def test_load_pretrained_refuses_a_corrupt_lraspp_file():
    path = _save_named_by_hash({"w": torch.zeros(1)}, "lraspp_mobilenet_v3_large")
    path.write_bytes(b"not this")
    with pytest.raises(CorruptWeightsError, match="corrupt or not the expected file"):
        load_pretrained(lraspp_mobilenet_v3_large, _fake_weights(path, 21))


def test_load_pretrained_says_where_a_missing_file_goes():
    weights = LRASPP_MobileNet_V3_Large_Weights.DEFAULT
    with pytest.raises(WeightsUnavailableError) as err:
        load_pretrained(lraspp_mobilenet_v3_large, weights)
    assert str(cached_weights_path(weights)) in str(err.value) and weights.url in str(err.value)


def test_a_malicious_resnet50_file_is_refused_and_auto_falls_back(capsys):
    path = models.resnet50_weights_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"fc.weight": torch.zeros(1), "x": Payload()}, path)
    with pytest.raises(WeightsUnavailableError, match="corrupt or unreadable"):
        load_model("resnet50")
    assert load_model().name == "efficientnet_lite0"
    out = capsys.readouterr().out
    assert "fallback" in out and path.name in out
    assert EXECUTED == []
