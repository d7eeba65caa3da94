r"""A vision transformer small enough to train on a CPU, and the two ways chapter 08b explains it.

A ViT cuts the image into :math:`P\times P` patches, turns each into a token of ``dim``
numbers, puts a learned **class token** in front, and lets ``depth`` encoder blocks mix the
``T = 1 + h w`` tokens by self-attention. The head reads the class token only:
:math:`S_c = w_c^\top \mathrm{LN}(z^L_0) + b_c` (Dosovitskiy et al., 2021). The names follow
timm's (``blocks[i].norm1``, ``blocks[i].attn``), so pytorch-grad-cam's recipe for ViTs applies.

- :func:`tokens_to_grid` is pytorch-grad-cam's ``reshape_transform``: drop the class token,
  put the patch tokens back on their :math:`h\times w` grid, channels first.
- :func:`attention_rollout` multiplies the attention of every block, each averaged over its
  heads with the residual connection added (Abnar & Zuidema, 2020).

>>> net = TinyViT(n_classes=3, image_size=32, patch=4, dim=16, depth=2, heads=2)
>>> net.grid, net(torch.zeros(2, 3, 32, 32)).shape
((8, 8), torch.Size([2, 3]))
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import positive_int

__all__ = ["Attention", "EncoderBlock", "TinyViT", "attention_rollout", "tokens_to_grid"]


class Attention(nn.Module):
    r"""Multi-head self-attention :math:`\mathrm{softmax}(QK^\top/\sqrt{d})\,V`, keeping its last attention.

    ``self.attention`` holds the probabilities of the last forward pass, ``B×heads×T×T``
    (row :math:`i`: how much token :math:`i` reads from each token), detached.
    """

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be a multiple of heads ({heads})")
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.attention: torch.Tensor | None = None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        B, T, D = z.shape
        q, k, v = self.qkv(z).reshape(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4)
        a = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)  # B × heads × T × T
        self.attention = a.detach()
        return self.proj((a @ v).transpose(1, 2).reshape(B, T, D))


class EncoderBlock(nn.Module):
    r"""Pre-norm encoder block: :math:`z \leftarrow z + \mathrm{Attn}(\mathrm{LN}_1 z)`, then :math:`z \leftarrow z + \mathrm{MLP}(\mathrm{LN}_2 z)`."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 2) -> None:
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(dim), Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(), nn.Linear(mlp_ratio * dim, dim))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z + self.attn(self.norm1(z))
        return z + self.mlp(self.norm2(z))


class TinyViT(nn.Module):
    r"""Patch embedding, a class token, ``depth`` encoder blocks and a linear head on the class token.

    Takes the images :func:`images_to_tensor` makes (``B×3×H×W``); returns ``B×n_classes``
    logits. ``grid`` is the patch grid :math:`(h, w)`; the tokens are ``1 + h*w``, class token first.

    Raises ``ValueError`` when ``image_size`` is not a multiple of ``patch``.
    """

    def __init__(self, n_classes: int = 3, *, image_size: int = 32, patch: int = 4, dim: int = 48,
                 depth: int = 3, heads: int = 3) -> None:
        super().__init__()
        image_size, patch = positive_int(image_size, "image_size"), positive_int(patch, "patch")
        if image_size % patch:
            raise ValueError(f"image_size ({image_size}) must be a multiple of patch ({patch})")
        n = image_size // patch
        self.grid = (n, n)
        self.patch_embed = nn.Conv2d(3, dim, patch, stride=patch)  # one linear map per P×P patch
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(0.02 * torch.randn(1, 1 + n * n, dim))
        self.blocks = nn.Sequential(*[EncoderBlock(dim, heads) for _ in range(positive_int(depth, "depth"))])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, positive_int(n_classes, "n_classes"))

    def tokens(self, x: torch.Tensor) -> torch.Tensor:
        """The tokens after the last block, ``B×T×dim``, class token first."""
        patches = self.patch_embed(x).flatten(2).transpose(1, 2)  # B × hw × dim, row by row
        z = torch.cat([self.cls_token.expand(len(x), -1, -1), patches], dim=1) + self.pos_embed
        return self.blocks(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.norm(self.tokens(x))[:, 0])  # S_c = w_c · LN(z_0) + b_c: the class token only


def tokens_to_grid(tokens: torch.Tensor, grid: tuple[int, int], n_extra: int = 1) -> torch.Tensor:
    r"""``B×(n_extra + h w)×D`` tokens to ``B×D×h×w``: drop the first ``n_extra`` (the class token), channels first.

    pytorch-grad-cam's ``reshape_transform``: patch :math:`p` sits at row ``p // w``, column ``p % w``.

    >>> t = torch.arange(2 * 7 * 3.).reshape(2, 7, 3)   # 1 class token + a 2×3 grid, D = 3
    >>> tokens_to_grid(t, (2, 3)).shape
    torch.Size([2, 3, 2, 3])
    >>> bool((tokens_to_grid(t, (2, 3))[:, :, 1, 0] == t[:, 1 + 3]).all())
    True

    Raises ``ValueError`` when the token count is not ``n_extra + h*w``.
    """
    h, w = grid
    if tokens.ndim != 3 or tokens.shape[1] != n_extra + h * w:
        raise ValueError(f"tokens must be B × {n_extra + h * w} × D ({n_extra} extra + a {h}×{w} grid), "
                         f"got {tuple(tokens.shape)}")
    B, _, D = tokens.shape
    return tokens[:, n_extra:].reshape(B, h, w, D).permute(0, 3, 1, 2)


def attention_rollout(model: TinyViT, x: torch.Tensor) -> torch.Tensor:
    r"""Attention rollout of the class token, ``B×h×w`` (Abnar & Zuidema, 2020).

    For every block :math:`l`: :math:`\hat A_l = \tfrac12(\bar A_l + I)`, rows renormalised, where
    :math:`\bar A_l` is the attention averaged over heads (the identity is the residual path).
    Then :math:`R = \hat A_L \cdots \hat A_1`, and the map is the class token's row
    :math:`R_{0,p}` over the patches :math:`p`. It needs no class: it is the same for every class.

    >>> net = TinyViT(dim=16, depth=2, heads=2)
    >>> attention_rollout(net.eval(), torch.zeros(1, 3, 32, 32)).shape
    torch.Size([1, 8, 8])
    """
    with torch.no_grad():
        model(x)
    T = model.blocks[0].attn.attention.shape[-1]
    R = torch.eye(T).expand(len(x), T, T)
    for block in model.blocks:
        A = block.attn.attention.mean(dim=1) + torch.eye(T)  # average the heads, add the residual
        A = A / A.sum(dim=-1, keepdim=True)
        R = A @ R
    h, w = model.grid
    return R[:, 0, 1:].reshape(len(x), h, w)
