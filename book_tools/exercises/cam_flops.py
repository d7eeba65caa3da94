r"""Chapter 12's auto-checked exercise: what CAM costs beyond the forward pass, in FLOPs.

The reader writes ``my_cam_flops(K, h, w, H, W, n_classes)``, a formula. The
reference is not one: it counts, with ``torch.utils.flop_counter.FlopCounterMode``,
the operations of :func:`tutorial_utils.cam.class_activation_map` and
:func:`tutorial_utils.maps.upsample` on inputs of those sizes.

The mistake catalogue in :data:`EXERCISE` is teaching material: each entry is a
wrong variant of the computation with the hint a reader gets when their
function computes it; the unit tests prove that the test inputs tell them apart.
"""

from __future__ import annotations

import torch

from .engine import CheckResult, Exercise, Mistake, check_answer, make_case

__all__ = ["EXERCISE", "check_cam_flops"]


def _flops_reference(K, h, w, H, W, n_classes):
    """The FLOPs counted by ``FlopCounterMode`` for CAM of ``n_classes`` classes, upsampled."""
    from torch.utils.flop_counter import FlopCounterMode

    from tutorial_utils.cam import class_activation_map
    from tutorial_utils.maps import upsample

    f = torch.rand(1, K, h, w, generator=torch.Generator().manual_seed(0))
    weights = torch.rand(n_classes + 1, K, generator=torch.Generator().manual_seed(1))
    with FlopCounterMode(display=False) as counter:
        upsample(class_activation_map(f, weights, list(range(n_classes))), (H, W))
    return counter.get_total_flops()


def _flops_cases():
    return [
        make_case(K=8, h=3, w=5, H=12, W=20, n_classes=3),
        make_case(K=16, h=4, w=4, H=32, W=24, n_classes=1),
        make_case(K=32, h=6, w=7, H=40, W=56, n_classes=5),
    ]


EXERCISE = Exercise(
    id="cam_flops",
    chapter="12_benchmark",
    function="my_cam_flops",
    signature="my_cam_flops(K, h, w, H, W, n_classes)",
    title="what CAM costs beyond the forward pass",
    reference_name="the count of FlopCounterMode",
    reference=_flops_reference,
    cases=_flops_cases,
    returns="scalar",
    rtol=1e-9,
    atol=0.0,
    mistakes=(
        Mistake("forgot the factor 2", lambda K, h, w, H, W, n: n * K * h * w + n * H * w * (h + W),
                "FlopCounterMode counts a multiply–add as 2 FLOPs."),
        Mistake("forgot the upsampling", lambda K, h, w, H, W, n: 2 * n * K * h * w,
                "add the upsampling of each map, R M Cᵀ: H·w·(h + W) multiply–adds per class."),
        Mistake("forgot the weighting", lambda K, h, w, H, W, n: 2 * n * H * w * (h + W),
                "add the weighting M_c = Σ_k w_k^c f_k: K·h·w multiply–adds per class."),
        Mistake("one class only", lambda K, h, w, H, W, n: 2 * K * h * w + 2 * H * w * (h + W),
                "every class has its own map, weighted and upsampled: multiply by the number of classes."),
        Mistake("upsampling in the other order", lambda K, h, w, H, W, n: 2 * n * K * h * w + 2 * n * h * W * (w + H),
                "`upsample` computes R M first (H × w values, H·h·w multiply–adds), then (R M) Cᵀ: H·w·(h + W) in all."),
        Mistake("upsampled the K feature maps first", lambda K, h, w, H, W, n: 2 * K * H * w * (h + W) + 2 * n * K * H * W,
                "weigh first, then upsample the maps of the classes (chapter 3): upsampling all K feature maps costs far more."),
    ),
)


def check_cam_flops(fn, *, strict: bool = False) -> CheckResult:
    r"""Check ``my_cam_flops(K, h, w, H, W, n_classes)``: :math:`2 n K h w + 2 n H w (h + W)` FLOPs.

    The function returns the floating-point operations that CAM of
    ``n_classes`` classes adds to the forward pass — weighting :math:`K`
    feature maps of :math:`h \times w` cells, then upsampling each map to
    :math:`H \times W` with ``upsample`` — as one number. The reference is not
    a formula: it counts the operations of :func:`class_activation_map` and
    :func:`upsample` with ``FlopCounterMode`` on inputs of those sizes.

    >>> check_cam_flops(lambda K, h, w, H, W, n: 2 * n * K * h * w + 2 * n * H * w * (h + W)).passed
    True

    Raises :class:`ExerciseFailed` only with ``strict=True`` and a wrong answer.
    """
    return check_answer(EXERCISE, fn, strict=strict)
