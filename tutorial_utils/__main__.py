"""Command line: ``python -m tutorial_utils info``, ``fetch-weights`` and ``check``.

``info`` says which model the book will use on this machine and why, and where
the ResNet50 weights file is expected. ``fetch-weights`` downloads the ResNet50
weights into torch's cache (run it once on a machine with internet; copy the
file to the same place on offline machines). ``check STUDENT.py [...] [--json]``
grades the auto-checked exercises in students' ``.py`` files or notebooks
without loading any model: exit code 0 if every attempted exercise is right,
1 if one is not, 2 if a file is missing or fails to load.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutorial_utils", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="which model the book uses here, and where ResNet50's weights go")
    sub.add_parser("fetch-weights", help="download the ResNet50 ImageNet weights into torch's cache")
    check = sub.add_parser("check", help="grade the auto-checked exercises in students' .py files or notebooks")
    check.add_argument("files", nargs="+", metavar="FILE", help="a student's .py file or .ipynb notebook")
    check.add_argument("--json", action="store_true", help="print a JSON list, one object per file and exercise")
    check.add_argument("--all", action="store_true", dest="show_all",
                       help="also list the exercises a file does not attempt (the JSON always has them)")
    args = parser.parse_args(argv)

    if args.command == "check":
        from .exercises import run_check

        return run_check(args.files, as_json=args.json, show_all=args.show_all)

    from . import models

    path = models.resnet50_weights_path()
    if args.command == "info":
        print(f"ResNet50 weights file: {path} ({'present' if path.is_file() else 'missing'})")
        model = models.load_model()
        print(f"K = {model.num_channels} feature maps; input {model.input_size[0]}×{model.input_size[1]}; "
              f"{model.num_parameters():,} parameters")
        return 0
    try:
        models._load_resnet50()
    except models.WeightsUnavailableError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"ResNet50 weights are in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
