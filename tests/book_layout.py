"""What the book consists of, read from _toc.yml (shared by the unit and site tests)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    """Every entry of _toc.yml, in order, without file extension (e.g. ``notebooks/01_first_look``)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files.append(chapter["file"])
            files += [section["file"] for section in chapter.get("sections", [])]
    return [Path(f).with_suffix("").as_posix() for f in files]
