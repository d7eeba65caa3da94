"""The sanity check's judge (tutorial_utils.sanity): statistics that do not cancel, and a rule that can fail.

The rule is tested on a synthetic model run through the real cascade
(``cascading_randomisation``): methods built to fail — the input's edge map, a
fixed mix of the trunk's channels, a map that ignores everything — must fail
it, and a map that changes completely with the weights must pass it, so the
rule is neither always yes nor always no.
"""

from itertools import islice

import numpy as np
import pytest
import torch
from skimage.color import rgb2gray
from skimage.filters import sobel

from tutorial_utils import (
    SANITY_BAR,
    SmallCamNet,
    cascading_randomisation,
    class_activation_map,
    images_to_tensor,
    map_similarity,
    randomisation_similarity,
    sanity_verdict,
    shapes_scene,
    upsample,
)

DRAWS, STEPS = 4, 3   # the trained model, then three units randomised


@pytest.fixture(scope="module")
def cascade():
    """Maps of several 'methods' for two scenes, along DRAWS cascades of a small CAM network."""
    torch.manual_seed(0)
    net = SmallCamNet(3, channels=(8, 16, 16)).eval()
    scenes = [shapes_scene(seed, size=48)[0] for seed in (1, 2)]
    x = images_to_tensor(np.stack(scenes))
    edges = np.stack([sobel(rgb2gray(s)) for s in scenes])
    maps = {"CAM": [], "edges": [], "channel mix": [], "fresh noise": []}
    mix = torch.linspace(-1.0, 1.0, 16)                                 # fixed weights, never randomised
    for draw in range(DRAWS):
        per_step = {name: [] for name in maps}
        for step, (_, randomised) in enumerate(islice(cascading_randomisation(net, seed=draw), STEPS + 1)):
            with torch.no_grad():
                _, f = randomised.forward_features(x)
            cam = class_activation_map(f, randomised.fc_weight, [0, 0]).reshape(2, *f.shape[-2:])
            per_step["CAM"].append(upsample(cam, (48, 48)))
            per_step["edges"].append(edges)
            per_step["channel mix"].append(upsample(torch.einsum("k,nkhw->nhw", mix, f).numpy(), (48, 48)))
            noise = np.random.default_rng([draw, step]).random((2, 6, 6))   # new with every change of weights
            per_step["fresh noise"].append(upsample(noise, (48, 48)))
        for name in maps:
            maps[name].append(per_step[name])
    return {name: np.asarray(v) for name, v in maps.items()}          # draws × steps × n × H × W


def _verdicts(maps):
    stats = randomisation_similarity(maps[0, 0], maps)
    return sanity_verdict({k: v[:, 1:] for k, v in stats.items()})   # from the random classifier on


def test_the_input_edge_map_fails_every_step(cascade):
    assert (_verdicts(cascade["edges"]) == "fail").all()


def test_a_fixed_mix_of_the_trunks_channels_fails_when_the_classifier_is_random(cascade):
    verdicts = _verdicts(cascade["channel mix"])
    assert verdicts[0] == "fail", verdicts                            # the classifier plays no part in it
    stats = randomisation_similarity(cascade["channel mix"][0, 0], cascade["channel mix"])
    assert np.allclose(stats["abs_rho"][:, 1], 1.0) and np.allclose(stats["ssim"][:, 1], 1.0)


def test_a_map_that_changes_with_every_weight_passes(cascade):
    """The rule can say yes: noise drawn anew for each model has no resemblance to the first."""
    fresh = cascade["fresh noise"]
    stats = randomisation_similarity(fresh[0, 0], fresh)
    verdicts = sanity_verdict({k: v[:, 1:] for k, v in stats.items()})
    assert (verdicts == "pass").all(), {k: v.mean(axis=0) for k, v in stats.items()}


def test_cam_is_linear_in_the_classifier_so_its_signed_rho_flips(cascade):
    cam = cascade["CAM"]
    s, flipped = map_similarity(cam[0, 0, 0], cam[0, 1, 0]), map_similarity(cam[0, 0, 0], -cam[0, 1, 0])
    assert s.rho == pytest.approx(-flipped.rho)
    assert (s.abs_of_rho, s.abs_rho, s.ssim) == pytest.approx((flipped.abs_of_rho, flipped.abs_rho, flipped.ssim))


def test_the_signed_rho_cannot_fail_a_map_whose_sign_is_a_coin_toss():
    """A map that is the trained one with a random sign per draw: the signed mean cancels, the others stay at 1."""
    rng = np.random.default_rng(0)
    trained = rng.random((1, 10, 10))
    signs = np.array([1, -1, 1, -1, -1, 1, 1, -1])
    randomised = (signs[:, None, None, None, None] * trained[None, None])    # 8 draws × 1 step
    stats = randomisation_similarity(trained, randomised)
    assert abs(stats["rho"].mean()) < 1e-9 < SANITY_BAR                   # the old rule: a pass
    assert sanity_verdict(stats).tolist() == ["fail"]                     # the rule: a fail


def test_flat_randomised_map_counts_as_no_ranking():
    trained = np.arange(16.0).reshape(4, 4)
    s = map_similarity(trained, np.zeros((4, 4)))
    assert s.rho == 0.0 and s.abs_rho == 0.0 and s.ssim < 0.1


def test_unclear_when_the_draws_disagree():
    stats = {k: np.array([[0.1], [0.9], [0.2], [0.8]]) for k in ("abs_of_rho", "abs_rho", "ssim")}
    assert sanity_verdict(stats).tolist() == ["unclear"]
    assert sanity_verdict({k: v[:1] for k, v in stats.items()}).tolist() == ["pass"]   # one draw: no spread


@pytest.mark.parametrize("trained, randomised, message", [
    (np.ones((4, 4)), np.zeros((4, 4)), "trained is a flat map"),
    (np.zeros((4, 4)) + np.eye(4), np.zeros((3, 3)), "same shape|one shape"),
    (np.eye(4)[None], np.eye(4)[None], "2-D"),
    (np.eye(2), np.eye(2), "3×3"),
    (np.where(np.eye(4) > 0, np.nan, 1.0), np.eye(4), "NaN"),
])
def test_map_similarity_rejects_bad_maps(trained, randomised, message):
    with pytest.raises(ValueError, match=message):
        map_similarity(trained, randomised)


def test_randomisation_similarity_checks_shapes():
    with pytest.raises(ValueError, match="draws×steps×n×H×W"):
        randomisation_similarity(np.zeros((2, 4, 4)), np.zeros((1, 2, 4, 4)))


@pytest.mark.parametrize("stats, bar, message", [
    ({"abs_rho": np.zeros((1, 1))}, 0.5, "lacks"),
    ({k: np.zeros(3) for k in ("abs_of_rho", "abs_rho", "ssim")}, 0.5, "draws×steps"),
    ({k: np.zeros((1, 1)) for k in ("abs_of_rho", "abs_rho", "ssim")}, 0.0, "bar"),
    ({k: np.zeros((1, 1)) for k in ("abs_of_rho", "abs_rho", "ssim")}, True, "bar"),
])
def test_sanity_verdict_rejects_bad_input(stats, bar, message):
    with pytest.raises(ValueError, match=message):
        sanity_verdict(stats, bar)


def test_a_verdict_is_a_plain_string():
    """Prose quotes single verdicts ({eval}): they must read "fail", not np.str_('fail')."""
    stats = {k: np.array([[0.9]]) for k in ("abs_of_rho", "abs_rho", "ssim")}
    verdict = sanity_verdict(stats)[0]
    assert type(verdict) is str and repr(verdict) == "'fail'"
