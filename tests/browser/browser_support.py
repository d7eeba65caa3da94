"""Where the browser test finds Chromium, and what stops it (shared by conftest.py and the test)."""

import os
import shutil

CHROMIUM_ENV = "CAM_BOOK_CHROMIUM"
#: Headless, and nothing that calls home: the benchmark's flags, which every browser test uses too.
from benchmarks.browser import CHROMIUM_ARGS  # noqa: E402
#: Set to 1 on a machine that cannot run Chromium: the browser tests are then skipped, loudly.
SKIP_ENV = "CAM_BOOK_SKIP_BROWSER"


def chromium_path() -> str | None:
    """The Chromium binary to drive: $CAM_BOOK_CHROMIUM, else chromium on PATH."""
    return os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")


def opted_out() -> bool:
    """True if $CAM_BOOK_SKIP_BROWSER asks to skip the browser tests (1, true or yes)."""
    return os.environ.get(SKIP_ENV, "").strip().lower() in ("1", "true", "yes")


def missing() -> str | None:
    """What keeps the browser tests from running here, with how to fix it; None if nothing."""
    opt_out = f"or, on a machine that cannot run Chromium, skip the browser tests with {SKIP_ENV}=1"
    configured = os.environ.get(CHROMIUM_ENV)
    if configured and not os.access(configured, os.X_OK):
        return f"${CHROMIUM_ENV} is {configured!r}, which is not an executable file. Fix it, {opt_out}."
    if chromium_path() is None:
        return ("Chromium is not installed. Install it (Debian: `apt-get install chromium`, "
                f"which `make browser` runs), or point {CHROMIUM_ENV} at a Chromium binary, {opt_out}.")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return f"the Python package playwright is not installed (`make install` installs it), {opt_out}."
    return None


def press_keys(page, selector: str, key: str, times: int) -> None:
    """Focus the control ``selector`` and press ``key`` ``times`` times, as a reader moves a slider."""
    page.focus(selector)
    for _ in range(times):
        page.keyboard.press(key)


def redraw_after(page, action) -> None:
    """Do ``action`` and wait until the website's explorer (cam-explorer.js) has drawn again."""
    before = int(page.get_attribute(".cam-web-explorer", "data-draws"))
    action()
    page.wait_for_function(f"Number(document.querySelector('.cam-web-explorer').dataset.draws) > {before}")
