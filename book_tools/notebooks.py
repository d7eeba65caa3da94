"""Reading the chapters as files: which notebooks are chapters, and where their solutions are."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

__all__ = ["ROOT", "SOLUTION", "chapter_paths", "read_notebook", "source"]

ROOT = Path(__file__).resolve().parents[1]
"""The book's root: the folder that holds ``_toc.yml``."""

SOLUTION = re.compile(r"<details>\s*<summary>Solution</summary>.*?</details>", re.S)
"""A written solution in a chapter's Markdown: a closed ``<details>`` block whose summary is "Solution"."""


def chapter_paths(root: Path = ROOT) -> list[Path]:
    """The notebooks of the table of contents, in its order (sections included)."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    entries = []

    def walk(items):
        for item in items or []:
            if "file" in item:
                entries.append(item["file"])
            walk(item.get("sections"))

    for part in toc["parts"]:
        walk(part["chapters"])
    return [root / f"{entry}.ipynb" for entry in entries if (root / f"{entry}.ipynb").is_file()]


def read_notebook(path: Path) -> dict:
    """A notebook as JSON, with a clear error naming the file when it is missing or not a notebook."""
    path = Path(path)
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such notebook") from None
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a notebook (invalid JSON: {err})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path}: not a notebook (no list of cells)")
    return nb


def source(cell: dict) -> str:
    """A cell's text, whether stored as one string or as a list of lines."""
    text = cell.get("source", "")
    return text if isinstance(text, str) else "".join(text)
