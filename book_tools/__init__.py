"""The book's own machinery for teachers, kept apart from ``tutorial_utils`` (what the chapters teach).

* :mod:`book_tools.chapter_times` — each chapter's estimated time, computed from
  its content by a stated rule (``python -m book_tools.chapter_times --write``
  writes it into the chapters' first cells; a book rule checks it is current);
* :mod:`book_tools.student_edition` — ``make student``: every chapter without the
  written solutions, for handing out (``_build/student/``).
"""
