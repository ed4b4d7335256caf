"""User-supplied text made safe to show: escaped so that markdown and HTML in it stay text."""

from __future__ import annotations

import re

MAX_CHARS = 500
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>$:])")


def plain(text: object, max_chars: int = MAX_CHARS) -> str:
    """Any text, for st.markdown / st.error: markdown specials backslash-escaped, < and > as entities,
    cut to max_chars. A link, image or HTML tag in it shows as the characters typed."""
    value = str(text)
    if len(value) > max_chars:
        value = value[: max_chars - 1] + "…"
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN.sub(r"\\\1", value)


def plain_lines(text: str) -> str:
    """A markdown list of user text lines ("- ..."): each line's text escaped, the list kept."""
    lines = []
    for line in text.split("\n"):
        bullet = line.startswith("- ")
        body = plain(line[2:] if bullet else line)
        lines.append(f"- {body}" if bullet else body)
    return "\n".join(lines)
