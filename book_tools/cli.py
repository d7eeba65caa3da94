"""Command line: ``python -m tutorial_utils info``, ``fetch-weights`` and ``check`` (``tutorial_utils/__main__.py`` delegates here).

``info`` says which model the book will use on this machine and why, and where
the ResNet50 weights file is expected. ``fetch-weights`` downloads the ResNet50
weights into torch's cache (run it once on a machine with internet; copy the
file to the same place on offline machines). ``check PATH [...] [--csv FILE]
[--json] [--all] [--timeout SECONDS] [--jobs N]`` grades the auto-checked
exercises in students' ``.py`` files or notebooks without loading any model.

A ``PATH`` is a student's file or a folder, searched recursively (in sorted
order) for ``*.py`` and ``*.ipynb`` files; hidden files and folders, such as
``.ipynb_checkpoints``, are skipped. A file's student is its stem
(``ada.ipynb``), or, inside a subfolder of a given folder, the name of that
top subfolder (``class/ada/03_cam.ipynb``: the layout of a learning-management
system's download). ``--csv FILE`` also writes a table for a spreadsheet:
``student``, one column per exercise (named after its function, in chapter
order) holding 1 (right), 0 (attempted, not right) or nothing (not
attempted), then ``passed`` (how many 1s), ``file`` and ``error``. One row per
student: a student's several files (the student edition, a notebook per
chapter) are merged, and an exercise attempted in two of them is 1 only if
right in both, named in ``error``. A file that fails to load adds no verdict
and its reason goes in ``error``. The console output (or ``--json``) is printed as
without it. See ``book_tools/exercises/classlist.py``.

``check`` runs students' code, which is untrusted. Each file is loaded in a
child process of its own, whose output is thrown away; the verdicts are made in
this process, against reference implementations that no student code can
reach. Loading a file and each exercise get ``--timeout`` seconds (by default
``book_tools.exercises.CHECK_TIMEOUT``). An answer that calls ``sys.exit``
or ``os._exit``, loops forever or prints megabytes gets a ✗ line saying so, and
the file's other exercises are still graded (see
``book_tools/exercises/grading.py``; it is not a sandbox). Exit code: 0 if
every attempted exercise is right; 1 if one is wrong, ran out of time or ended
its process, or a file attempts no exercise (the student edition as handed out);
2 if a file is missing, unreadable or fails while loading (a
syntax error, an exception, an exit or running out of time at import), or a
folder holds no submission, with one line naming it on stderr — the other
files are still graded. Also 2, before anything is graded, when the ``--csv``
file cannot be written.
"""

from __future__ import annotations

import argparse
import sys

from tutorial_utils.checks import positive_int_arg


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text}")
    return value


def main(argv: list[str] | None = None) -> int:
    from .exercises import CHECK_TIMEOUT, run_check

    parser = argparse.ArgumentParser(prog="python -m tutorial_utils", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="which model the book uses here, and where ResNet50's weights go")
    sub.add_parser("fetch-weights", help="download the ResNet50 ImageNet weights into torch's cache")
    check = sub.add_parser("check", help="grade the auto-checked exercises in students' .py files or notebooks")
    check.add_argument("files", nargs="+", metavar="PATH",
                       help="a student's .py file or .ipynb notebook, or a folder of them (searched recursively; "
                            "hidden files and folders skipped; a file in a subfolder belongs to the student the "
                            "subfolder is named after, any other to its file name's stem)")
    check.add_argument("--csv", metavar="FILE",
                       help="also write a CSV, one row per student: student, one column per exercise "
                            "(1 right, 0 wrong, empty not attempted), passed, file, error")
    check.add_argument("--json", action="store_true", help="print a JSON list, one object per file and exercise")
    check.add_argument("--all", action="store_true", dest="show_all",
                       help="also list the exercises a file does not attempt (the JSON always has them)")
    check.add_argument("--timeout", type=_positive_float, default=CHECK_TIMEOUT, metavar="SECONDS",
                       help="time limit for loading a file and for each exercise; an answer that runs out of it "
                            "is wrong (default: %(default)g)")
    check.add_argument("--jobs", type=positive_int_arg, default=None, metavar="N",
                       help="files graded at the same time, one child process each "
                            "(default: the number of CPUs, at most 4)")
    args = parser.parse_args(argv)

    if args.command == "check":
        return run_check(args.files, as_json=args.json, show_all=args.show_all, timeout=args.timeout, jobs=args.jobs,
                         csv=args.csv)

    from tutorial_utils import models

    from . import weights

    path = weights.resnet50_weights_path()
    if args.command == "info":
        print(f"ResNet50 weights file: {path} ({'present' if path.is_file() else 'missing'})")
        model = models.load_model()
        print(f"K = {model.num_channels} feature maps; input {model.input_size[0]}×{model.input_size[1]}; "
              f"{model.num_parameters():,} parameters")
        return 0
    try:
        # Downloaded once (SHA-256 checked as it arrives); a file already cached is checked here.
        weights.verify_weights_file(weights.fetch_resnet50_weights())
    except weights.WeightsUnavailableError as err:  # also CorruptWeightsError
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"ResNet50 weights are in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
