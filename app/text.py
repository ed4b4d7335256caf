"""User text shown as text: safe to embed in st.markdown, st.error, st.warning, st.info.

Everything a visitor controls (a file name, a field from a state file or a link, a cell of the
table) reaches the page inside Markdown that Streamlit renders, so `[Log in again](https://evil…)`
would be a link, `![x](…)` an image fetched from elsewhere, `:red[…]`, `$…$` and `:material/…:`
Streamlit's own syntax. plain() makes such text inert. Pure: no streamlit.
"""

from __future__ import annotations

import re

MAX_CHARS = 200  # a notice names a thing; it does not quote a whole file
# Every ASCII punctuation character that Markdown (CommonMark, GFM) or Streamlit's extensions give a
# meaning to; CommonMark lets any ASCII punctuation be escaped with a backslash. "." and ":" and "@"
# break GFM's autolinks (www.x.y, https://x, a@b.c), "$" LaTeX, ":" emoji, colors and icons.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:@&=\"'^%;,/?])")
_ANGLES = str.maketrans({"<": "‹", ">": "›"})  # never a tag, not even an escaped one


def plain(text: object, limit: int = MAX_CHARS) -> str:
    """`text` as inert Markdown: shown exactly as typed (up to `limit` characters, then …), on one line.

    Markdown specials are backslash-escaped, `<` and `>` become ‹ and ›, line breaks, control and
    invisible format characters (bidirectional overrides, zero-width joiners) become spaces or `?`,
    and leading spaces go (Markdown shows none, and four or more make the line a code block).
    """
    raw = text if isinstance(text, str) else str(text)
    shortened = len(raw) > limit
    raw = raw[:limit]
    chars = []
    for ch in raw:
        if ch in "\r\n\t\v\f":
            chars.append(" ")
        elif not ch.isprintable():
            chars.append("?")
        else:
            chars.append(ch)
    line = "".join(chars).lstrip(" ")  # (Markdown shows no leading space; four make a code block)
    safe = _SPECIAL.sub(r"\\\1", line.translate(_ANGLES))
    return safe + ("…" if shortened else "")


def plain_lines(text: str, limit: int = MAX_CHARS) -> str:
    """A markdown list of user text lines ("- ..."): each line's text made inert, the list kept."""
    lines = []
    for line in text.split("\n"):
        bullet = line.startswith("- ")
        body = plain(line[2:] if bullet else line, limit)
        lines.append(f"- {body}" if bullet else body)
    return "\n".join(lines)
