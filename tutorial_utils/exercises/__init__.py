r"""Auto-checked exercises: two per chapter, each with a checker that says what goes wrong.

Each chapter's *Exercises* section asks the reader to write two functions — a
warm-up such as ``my_cam(f, W, c)``, the chapter's own computation, and a
transfer task such as ``my_batch_cam(f, W, classes)``, its idea in a new
situation — and to pass each to its checker, ``check_cam(my_cam)``. The checker

1. calls the function on a few small, seeded, synthetic inputs (no model is
   loaded; every check takes well under a second);
2. reports an exception, ``None``, a wrong type, a wrong shape or NaN with the
   inputs that caused it;
3. compares the result with the book's reference (the helper in
   ``tutorial_utils`` where one exists) with ``np.allclose``;
4. when the values are wrong, compares them with a list of **known mistakes** —
   each a wrong variant of the computation with a hint — and names the one that
   matches; if none does, it says where the largest difference is.

The inputs are designed so that every known mistake gives a result different from
the right answer and from every other mistake (classes ≠ K, non-square maps,
non-zero biases, mixed signs, labels with gaps); the unit tests prove it.

>>> from tutorial_utils import check_cam
>>> result = check_cam(lambda f, W, c: (W[c][:, None, None] * f[0]).sum(0))
>>> result.passed
True

``grade(namespace)`` runs every checker whose function is defined in a namespace,
in this process. ``python -m tutorial_utils check student.py`` does the same for
files, but runs the students' code in child processes and judges what it
returns in its own (:mod:`tutorial_utils.exercises.grading`): an answer that
exits, hangs, floods the output or monkeypatches the library cannot fool it.

The package, one module per part:

* :mod:`~tutorial_utils.exercises.base` — what an exercise is (reference, cases,
  known mistakes) and what a check returns;
* :mod:`~tutorial_utils.exercises.engine` — the three steps of a check: look at
  the function, call it, judge what it did;
* one module per exercise, two per chapter, each with its reference, test
  inputs, catalogue of known mistakes and ``check_…`` function. The warm-ups
  (the chapter's own computation): :mod:`~tutorial_utils.exercises.preprocess`,
  :mod:`~tutorial_utils.exercises.head`, :mod:`~tutorial_utils.exercises.cam`,
  :mod:`~tutorial_utils.exercises.slic_distances`, :mod:`~tutorial_utils.exercises.secam`,
  :mod:`~tutorial_utils.exercises.grad_cam`, :mod:`~tutorial_utils.exercises.guided_relu`,
  :mod:`~tutorial_utils.exercises.seg_target`, :mod:`~tutorial_utils.exercises.ascent_step`,
  :mod:`~tutorial_utils.exercises.mass_share`, :mod:`~tutorial_utils.exercises.average_drop`,
  :mod:`~tutorial_utils.exercises.cam_flops`. The transfer tasks (the chapter's
  idea in a situation it did not show), in chapter order:
  :mod:`~tutorial_utils.exercises.unnormalise`, :mod:`~tutorial_utils.exercises.receptive_field`,
  :mod:`~tutorial_utils.exercises.batch_cam`, :mod:`~tutorial_utils.exercises.slic_assign`,
  :mod:`~tutorial_utils.exercises.mask_secam`, :mod:`~tutorial_utils.exercises.head_grad_cam`,
  :mod:`~tutorial_utils.exercises.deconv_relu`, :mod:`~tutorial_utils.exercises.roi_target`,
  :mod:`~tutorial_utils.exercises.channel_objective`, :mod:`~tutorial_utils.exercises.pointing_game`,
  :mod:`~tutorial_utils.exercises.rank_correlation`, :mod:`~tutorial_utils.exercises.occlusion_passes`;
* :mod:`~tutorial_utils.exercises.registry` — :data:`EXERCISES` and :func:`grade`;
* :mod:`~tutorial_utils.exercises.grading` — ``python -m tutorial_utils check``:
  :func:`run_check`, the parent that judges;
* :mod:`~tutorial_utils.exercises.classlist` — a class at once: the submissions
  in a folder, whose each one is, and the table of ``check --csv``;
* :mod:`~tutorial_utils.exercises.child` — :func:`load_student_file` and the
  child process, the only code that runs a student's file.
"""

from .ascent_step import check_ascent_step
from .average_drop import check_average_drop
from .batch_cam import check_batch_cam
from .cam import check_cam
from .cam_flops import check_cam_flops
from .channel_objective import check_channel_objective
from .child import StudentFileError, load_student_file
from .base import CheckResult, Exercise, ExerciseFailed, Mistake
from .deconv_relu import check_deconv_relu_grad
from .grad_cam import check_grad_cam
from .grading import CHECK_TIMEOUT, run_check
from .guided_relu import check_guided_relu_grad
from .head import check_head
from .head_grad_cam import check_head_grad_cam
from .mask_secam import check_mask_secam
from .mass_share import check_mass_share
from .occlusion_passes import check_occlusion_passes
from .pointing_game import check_pointing_game
from .preprocess import check_preprocess
from .rank_correlation import check_rank_correlation
from .receptive_field import check_receptive_field
from .registry import EXERCISES, grade
from .roi_target import check_roi_target
from .secam import check_secam
from .seg_target import check_seg_target
from .slic_assign import check_slic_assign
from .slic_distances import check_slic_distances
from .unnormalise import check_unnormalise

__all__ = [
    "CHECK_TIMEOUT",
    "EXERCISES",
    "CheckResult",
    "Exercise",
    "ExerciseFailed",
    "Mistake",
    "StudentFileError",
    "check_ascent_step",
    "check_average_drop",
    "check_batch_cam",
    "check_cam",
    "check_cam_flops",
    "check_channel_objective",
    "check_deconv_relu_grad",
    "check_grad_cam",
    "check_guided_relu_grad",
    "check_head",
    "check_head_grad_cam",
    "check_mask_secam",
    "check_mass_share",
    "check_occlusion_passes",
    "check_pointing_game",
    "check_preprocess",
    "check_rank_correlation",
    "check_receptive_field",
    "check_roi_target",
    "check_secam",
    "check_seg_target",
    "check_slic_assign",
    "check_slic_distances",
    "check_unnormalise",
    "grade",
    "load_student_file",
    "run_check",
]
