"""The small vision transformer, its reshape_transform and attention rollout (chapter 08b)."""

import numpy as np
import pytest
import torch
from pytorch_grad_cam import GradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from tutorial_utils import LayerCapture, TinyViT, attention_rollout, grad_cam, hires_cam, tokens_to_grid


@pytest.fixture(scope="module")
def vit():
    torch.manual_seed(0)
    return TinyViT(n_classes=3, image_size=16, patch=4, dim=16, depth=2, heads=2).eval()


def test_the_network_has_a_token_per_patch_and_a_class_token(vit):
    x = torch.randn(2, 3, 16, 16)
    assert vit.grid == (4, 4)
    assert vit.tokens(x).shape == (2, 17, 16)
    assert vit(x).shape == (2, 3)
    assert vit.blocks[0].attn.attention.shape == (2, 2, 17, 17)
    torch.testing.assert_close(vit.blocks[0].attn.attention.sum(-1), torch.ones(2, 2, 17))


def test_tokens_to_grid_puts_patch_p_at_row_p_div_w_column_p_mod_w():
    B, h, w, D = 2, 3, 5, 4
    tokens = torch.randn(B, 2 + h * w, D)
    grid = tokens_to_grid(tokens, (h, w), n_extra=2)
    assert grid.shape == (B, D, h, w)
    for p in range(h * w):
        assert torch.equal(grid[:, :, p // w, p % w], tokens[:, 2 + p])
    with pytest.raises(ValueError, match="1 extra"):
        tokens_to_grid(torch.randn(1, h * w, D), (h, w))  # the class token forgotten


def test_attention_rollout_is_the_product_of_the_averaged_attention_with_the_skip(vit):
    x = torch.randn(1, 3, 16, 16)
    rollout = attention_rollout(vit, x)
    R = np.eye(17)
    for block in vit.blocks:  # layer 1 first
        A = 0.5 * block.attn.attention[0].mean(0).numpy() + 0.5 * np.eye(17)
        R = (A / A.sum(-1, keepdims=True)) @ R
    np.testing.assert_allclose(rollout[0].numpy(), R[0, 1:].reshape(4, 4), rtol=1e-5, atol=1e-7)


def test_grad_cam_on_tokens_equals_the_plain_computation_and_pytorch_grad_cam(vit):
    torch.manual_seed(1)
    x = torch.randn(3, 3, 16, 16)
    to_grid = lambda t: tokens_to_grid(t, vit.grid)  # noqa: E731
    ours = grad_cam(vit, x, 1, layer="blocks.1.norm1", reshape_transform=to_grid)
    with LayerCapture(vit.blocks[1].norm1) as capture:
        score = vit(x)[:, 1].sum()
    (g,) = torch.autograd.grad(score, capture.activations)
    A, G = to_grid(capture.activations.detach()), to_grid(g)
    plain = torch.relu((G.mean(dim=(2, 3), keepdim=True) * A).sum(1)).numpy()
    np.testing.assert_allclose(ours, plain, rtol=1e-5, atol=1e-8)
    with GradCAM(model=vit, target_layers=[vit.blocks[1].norm1], reshape_transform=to_grid) as ref:
        theirs = ref(input_tensor=x, targets=[ClassifierOutputTarget(1)] * 3)
    for i in range(3):
        if ours[i].max() > 0:
            up = torch.nn.functional.interpolate(torch.from_numpy(ours[i])[None, None], size=(16, 16),
                                                 mode="bilinear", align_corners=False)[0, 0].numpy()
            up = (up - up.min()) / (up.max() - up.min())
            assert np.corrcoef(up.ravel(), theirs[i].ravel())[0, 1] > 0.999
        else:
            assert theirs[i].max() == 0


def test_tokens_without_a_reshape_transform_get_a_clear_error(vit):
    x = torch.randn(1, 3, 16, 16)
    for method in (grad_cam, hires_cam):
        with pytest.raises(ValueError, match="reshape_transform"):
            method(vit, x, 0, layer="blocks.1.norm1")


def test_the_last_block_output_gives_a_blank_map(vit):
    # The logit reads only the class token's output: the patch tokens' gradients there are zero.
    x = torch.randn(2, 3, 16, 16)
    blank = grad_cam(vit, x, 0, layer="blocks.1", reshape_transform=lambda t: tokens_to_grid(t, vit.grid))
    assert (blank == 0).all()


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="multiple of patch"):
        TinyViT(image_size=30, patch=4)
    with pytest.raises(ValueError, match="multiple of heads"):
        TinyViT(dim=10, heads=3)
