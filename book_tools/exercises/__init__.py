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

>>> from book_tools import check_cam
>>> result = check_cam(lambda f, W, c: (W[c][:, None, None] * f[0]).sum(0))
>>> result.passed
True

``grade(namespace)`` runs every checker whose function is defined in a namespace,
in this process. ``python -m tutorial_utils check student.py`` does the same for
files, but runs the students' code in child processes and judges what it
returns in its own (:mod:`book_tools.exercises.grading`): an answer that
exits, hangs, floods the output or monkeypatches the library cannot fool it.

The package, one module per part:

* :mod:`~book_tools.exercises.base` — what an exercise is (reference, cases,
  known mistakes) and what a check returns;
* :mod:`~book_tools.exercises.engine` — the three steps of a check: look at
  the function, call it, judge what it did;
* one module per exercise, two per chapter, each with its reference, test
  inputs, catalogue of known mistakes and ``check_…`` function. The warm-ups
  (the chapter's own computation): :mod:`~book_tools.exercises.preprocess`,
  :mod:`~book_tools.exercises.head`, :mod:`~book_tools.exercises.cam`,
  :mod:`~book_tools.exercises.slic_distances`, :mod:`~book_tools.exercises.secam`,
  :mod:`~book_tools.exercises.grad_cam`, :mod:`~book_tools.exercises.guided_relu`,
  :mod:`~book_tools.exercises.seg_target`, :mod:`~book_tools.exercises.attention_rollout`,
  :mod:`~book_tools.exercises.ascent_step`, :mod:`~book_tools.exercises.mass_share`,
  :mod:`~book_tools.exercises.average_drop`, :mod:`~book_tools.exercises.cam_flops`.
  The transfer tasks (the chapter's idea in a situation it did not show), in
  chapter order: :mod:`~book_tools.exercises.unnormalise`,
  :mod:`~book_tools.exercises.receptive_field`, :mod:`~book_tools.exercises.batch_cam`,
  :mod:`~book_tools.exercises.slic_assign`, :mod:`~book_tools.exercises.mask_secam`,
  :mod:`~book_tools.exercises.head_grad_cam`, :mod:`~book_tools.exercises.deconv_relu`,
  :mod:`~book_tools.exercises.roi_target`, :mod:`~book_tools.exercises.reshape_transform`,
  :mod:`~book_tools.exercises.channel_objective`, :mod:`~book_tools.exercises.pointing_game`,
  :mod:`~book_tools.exercises.rank_correlation`, :mod:`~book_tools.exercises.occlusion_passes`;
* :mod:`~book_tools.exercises.registry` — :data:`EXERCISES` and :func:`grade`;
* :mod:`~book_tools.exercises.grading` — grading files in child processes,
  judged in the parent: the heart of ``python -m tutorial_utils check``;
* :mod:`~book_tools.exercises.classlist` — the command's front, :func:`run_check`:
  the submissions in a folder, whose each one is, the report and the table of ``check --csv``;
* :mod:`~book_tools.exercises.child` — :func:`load_student_file` and the
  child process, the only code that runs a student's file.
"""

from .ascent_step import check_ascent_step
from .attention_rollout import check_attention_rollout
from .average_drop import check_average_drop
from .batch_cam import check_batch_cam
from .cam import check_cam
from .cam_flops import check_cam_flops
from .channel_objective import check_channel_objective
from .child import StudentFileError, load_student_file
from .classlist import run_check
from .base import CheckResult, Exercise, ExerciseFailed, Mistake
from .deconv_relu import check_deconv_relu_grad
from .grad_cam import check_grad_cam
from .grading import CHECK_TIMEOUT
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
from .reshape_transform import check_reshape_transform
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
    "check_attention_rollout",
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
    "check_reshape_transform",
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
