"""Where the browser test finds Chromium (shared by conftest.py and the test)."""

import os
import shutil

CHROMIUM_ENV = "CAM_BOOK_CHROMIUM"


def chromium_path() -> str | None:
    """The Chromium binary to drive: $CAM_BOOK_CHROMIUM, else chromium on PATH."""
    return os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
