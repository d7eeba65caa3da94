"""Every auto-checked exercise, by id, in chapter order — and :func:`grade`, which runs their checkers here.

Each chapter's module (:mod:`~book_tools.exercises.cam`, …) defines its
:data:`EXERCISE` and its ``check_…`` function; the registry pairs them, so that
``EXERCISES["cam"].checker is check_cam``. The command line
(:mod:`book_tools.exercises.grading`) grades every exercise of this registry.

>>> [ex.id for ex in EXERCISES.values() if ex.kind == "warm-up"][:3]
['preprocess', 'head', 'cam']
>>> EXERCISES["cam"].checker.__name__
'check_cam'
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

from . import (
    ascent_step,
    attention_rollout,
    average_drop,
    batch_cam,
    cam,
    cam_flops,
    channel_objective,
    deconv_relu,
    grad_cam,
    guided_relu,
    head,
    head_grad_cam,
    mask_secam,
    mass_share,
    occlusion_passes,
    pointing_game,
    preprocess,
    rank_correlation,
    receptive_field,
    reshape_transform,
    roi_target,
    secam,
    seg_target,
    slic_assign,
    slic_distances,
    unnormalise,
)
from .base import KINDS
from .engine import CheckResult, Exercise, missing_verdict

__all__ = ["EXERCISES", "grade"]


def _register(*pairs: tuple[Exercise, Callable]) -> dict[str, Exercise]:
    """Each exercise with its checker attached, by id, in chapter order (the warm-up before the transfer task)."""
    exercises = [dataclasses.replace(ex, checker=checker) for ex, checker in pairs]
    exercises.sort(key=lambda ex: (ex.chapter, KINDS.index(ex.kind)))
    return {ex.id: ex for ex in exercises}


EXERCISES: dict[str, Exercise] = _register(
    (preprocess.EXERCISE, preprocess.check_preprocess),
    (head.EXERCISE, head.check_head),
    (cam.EXERCISE, cam.check_cam),
    (slic_distances.EXERCISE, slic_distances.check_slic_distances),
    (secam.EXERCISE, secam.check_secam),
    (grad_cam.EXERCISE, grad_cam.check_grad_cam),
    (guided_relu.EXERCISE, guided_relu.check_guided_relu_grad),
    (seg_target.EXERCISE, seg_target.check_seg_target),
    (attention_rollout.EXERCISE, attention_rollout.check_attention_rollout),
    (ascent_step.EXERCISE, ascent_step.check_ascent_step),
    (mass_share.EXERCISE, mass_share.check_mass_share),
    (average_drop.EXERCISE, average_drop.check_average_drop),
    (cam_flops.EXERCISE, cam_flops.check_cam_flops),
    (head_grad_cam.EXERCISE, head_grad_cam.check_head_grad_cam),
    (deconv_relu.EXERCISE, deconv_relu.check_deconv_relu_grad),
    (unnormalise.EXERCISE, unnormalise.check_unnormalise),
    (receptive_field.EXERCISE, receptive_field.check_receptive_field),
    (pointing_game.EXERCISE, pointing_game.check_pointing_game),
    (rank_correlation.EXERCISE, rank_correlation.check_rank_correlation),
    (occlusion_passes.EXERCISE, occlusion_passes.check_occlusion_passes),
    (channel_objective.EXERCISE, channel_objective.check_channel_objective),
    (roi_target.EXERCISE, roi_target.check_roi_target),
    (reshape_transform.EXERCISE, reshape_transform.check_reshape_transform),
    (batch_cam.EXERCISE, batch_cam.check_batch_cam),
    (slic_assign.EXERCISE, slic_assign.check_slic_assign),
    (mask_secam.EXERCISE, mask_secam.check_mask_secam),
)
"""Every auto-checked exercise, by id, in chapter order."""


def grade(namespace: Mapping[str, object]) -> list[CheckResult]:
    """Run every registered checker whose function is defined in ``namespace``; one result per exercise.

    ``namespace`` is a dict such as ``globals()`` or what ``runpy.run_path``
    returns. A function that is missing, or still the stub, gives a result with
    ``attempted=False`` and ``passed=False``, clearly worded.

    >>> {r.exercise: r.passed for r in grade({"my_cam": lambda f, W, c: (W[c][:, None, None] * f[0]).sum(0)})}["cam"]
    True

    Never raises for wrong or failing functions: each result says what went wrong.
    """
    results = []
    for ex in EXERCISES.values():
        fn = namespace.get(ex.function)
        if fn is None:
            results.append(missing_verdict(ex))
        else:
            results.append(ex.checker(fn))
    return results
