"""The cheat sheet's code runs, and computes what its equations say."""

import re

import numpy as np
import pytest
from book_layout import ROOT

CHEATSHEET = ROOT / "book" / "cheatsheet.md"


def _code_blocks():
    return re.findall(r"```python\n(.*?)```", CHEATSHEET.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def ns():
    blocks = _code_blocks()
    assert len(blocks) == 5, f"expected the set-up block and one per method, found {len(blocks)}"
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(CHEATSHEET), "exec"), namespace)  # noqa: S102 - our own page
    return namespace


def test_the_set_up_uses_the_offline_model_here(ns):
    # tests/isolation.py (loaded by tests/book/conftest.py) empties TORCH_HOME and blocks the
    # network for the whole session (this module-scoped fixture included), so "auto" falls
    # back to EfficientNet-Lite0, as the cheat sheet promises offline.
    assert ns["model"].name == "efficientnet_lite0"


def test_cam_equations(ns):
    M, b, c, logits, f, W = (ns[k] for k in ("M", "b", "c", "logits", "f", "W"))
    K, h, w = f.shape[1:]
    assert M.shape == (h, w)
    expected = np.einsum("k,kyx->yx", W[c].numpy(), f[0].numpy())  # M_c = Σ_k w_k^c f_k
    np.testing.assert_allclose(M, expected, rtol=1e-4, atol=1e-4)
    assert M.mean() + float(b[c]) == pytest.approx(float(logits[0, c]), abs=1e-3)  # S_c = mean M_c + b_c
    heat = ns["heat"]
    assert heat.shape == ns["image"].shape[:2] and heat.min() >= 0 and heat.max() == pytest.approx(1)


def test_grad_cam_and_hires_cam_equal_cam_over_hw_for_a_gap_linear_head(ns):
    M, L_hires, f = ns["M"], ns["L"], ns["f"]
    h, w = f.shape[2:]
    # The last block to run is SeCAM's, so L is HiResCAM's map; recompute Grad-CAM.
    from tutorial_utils import grad_cam

    L_grad = grad_cam(ns["model"], ns["x"], ns["c"])
    scale = np.abs(M).max() / (h * w)
    np.testing.assert_allclose(L_hires, M / (h * w), atol=1e-4 * scale)
    np.testing.assert_allclose(L_grad, np.maximum(M, 0) / (h * w), atol=1e-4 * scale)


def test_secam_is_the_mean_of_the_cam_in_each_superpixel(ns):
    from tutorial_utils import upsample

    S, segments, M, image = ns["secam_map"], ns["segments"], ns["M"], ns["image"]
    up = upsample(M, image)
    assert S.shape == segments.shape == image.shape[:2]
    for label in np.unique(segments)[:20]:
        inside = segments == label
        assert np.allclose(S[inside], up[inside].mean(), rtol=1e-4, atol=1e-5)
