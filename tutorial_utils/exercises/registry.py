"""Every auto-checked exercise, by id, in chapter order — and :func:`grade`, which runs their checkers here.

Each chapter's module (:mod:`~tutorial_utils.exercises.cam`, …) defines its
:data:`EXERCISE` and its ``check_…`` function; the registry pairs them, so that
``EXERCISES["cam"].checker is check_cam``. The command line
(:mod:`tutorial_utils.exercises.grading`) grades every exercise of this registry.

>>> list(EXERCISES)[:3]
['preprocess', 'head', 'cam']
>>> EXERCISES["cam"].checker.__name__
'check_cam'
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

from . import (
    ascent_step,
    average_drop,
    cam,
    cam_flops,
    grad_cam,
    guided_relu,
    head,
    mass_share,
    preprocess,
    secam,
    seg_target,
    slic_distances,
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
    (ascent_step.EXERCISE, ascent_step.check_ascent_step),
    (mass_share.EXERCISE, mass_share.check_mass_share),
    (average_drop.EXERCISE, average_drop.check_average_drop),
    (cam_flops.EXERCISE, cam_flops.check_cam_flops),
)
"""Every auto-checked exercise, by id, in chapter order."""


def grade(namespace: Mapping[str, object]) -> list[CheckResult]:
    """Run every registered checker whose function is defined in ``namespace``; one result per exercise.

    ``namespace`` is a dict such as ``globals()`` or what ``runpy.run_path``
    returns. A function that is missing, or still the stub, gives a result with
    ``attempted=False`` and ``passed=False``, clearly worded.

    >>> [r.passed for r in grade({"my_cam": lambda f, W, c: (W[c][:, None, None] * f[0]).sum(0)})][2]
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
