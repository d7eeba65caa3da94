"""``python -m tutorial_utils info | fetch-weights | check FILE…``: the book's commands, kept in ``book_tools.cli``.

The only module of ``tutorial_utils`` that reaches into ``book_tools``: the
commands (grading students' files, downloading weights) are the book's machinery,
not what the chapters teach, but their name stays the one teachers already use.
"""
import sys

from book_tools.cli import main

if __name__ == "__main__":
    sys.exit(main())
