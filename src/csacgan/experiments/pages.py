"""Docs pages whose tables are rewritten by the scripts that measure them: a table lies
between a ``<!-- MARKER -->`` line and a ``<!-- /MARKER -->`` line, and only that span
changes, so the prose around it stays as written."""
from __future__ import annotations

from pathlib import Path


def write_between_markers(page: Path, marker: str, text: str) -> None:
    """Replace what lies between PAGE's MARKER pair with ``text``; refuse (SystemExit) a page
    that does not exist or lacks the pair, rather than let printing pass for writing."""
    page = Path(page)
    start, end = f"<!-- {marker} -->", f"<!-- /{marker} -->"
    old = page.read_text() if page.is_file() else None
    if old is None or start not in old or end not in old:
        why = "does not exist" if old is None else f"has no {start} ... {end} pair to write the table between"
        raise SystemExit(f"{page} {why}")
    head, rest = old.split(start, 1)
    page.write_text(head + start + "\n" + text + "\n" + end + rest.split(end, 1)[1])
