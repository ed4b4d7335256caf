"""plain(): user text embedded in Markdown (st.markdown, st.error, ...) stays text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from app.text import MAX_CHARS, plain, plain_lines

# CommonMark plus GFM's tables and strikethrough: the grammar Streamlit's react-markdown + remark-gfm
# renders (its autolink literals are checked by hand below: markdown-it has no linkify here).
MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = [
    "[Log in again](https://evil.example)",
    "![x](https://evil.example/a.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "[click](javascript:alert(document.cookie))",
    "<javascript:alert(1)>",
    "<https://evil.example>",
    "[[nested [brackets]](https://evil.example)](https://evil.example/2)",
    "[ref][1]\n\n[1]: https://evil.example",
    "**bold** _it_ `code` ~~gone~~ # heading",
    "line one\n# a heading\n- a list\n```\ncode\n```",
    ":red[colored] :material/home: :smile: $x^2$",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "&lt;b&gt; &amp; &#60;",
    "\\[escaped\\](https://evil.example)",
    "www.evil.example and https://evil.example and a@evil.example",
    "right\u202eto left\u200b\x00\x1b[31m",
    "    0",  # (four leading spaces: an indented code block; found by the property test below)
    "\t\t<b>tabbed</b>",
]


def rendered(text: str) -> str:
    return MD.render(text)


def visible(html: str) -> str:
    """The text a reader sees: tags dropped, entities decoded."""
    import html as html_lib

    return html_lib.unescape(re.sub(r"<[^>]+>", "", html)).strip()


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_renders_as_one_paragraph_of_text(text):
    html = rendered(plain(text))
    tags = set(re.findall(r"</?([a-z0-9]+)", html))
    assert tags <= {"p"}, html  # no a, img, script, code, strong, h1, table, ...
    assert not re.search(r"<[a-z0-9]+\s", html), html  # no tag with attributes (href, src, on...)


@pytest.mark.parametrize("text", HOSTILE)
def test_the_reader_sees_what_was_typed(text):
    """Up to line breaks (spaces), invisible characters (?) and angle brackets (‹ ›)."""
    expected = "".join(
        " " if ch in "\r\n\t" else "?" if not ch.isprintable() else ch for ch in text
    ).translate(str.maketrans("<>", "‹›"))
    assert re.sub(" +", " ", visible(rendered(plain(text)))) == re.sub(" +", " ", expected).strip()


def test_no_autolink_or_streamlit_syntax_survives():
    safe = plain("www.evil.example https://evil.example a@evil.example :red[x] :smile: $x$")
    for literal in ("www.", "://", "a@", ":red[", ":smile:", "$x$"):
        assert literal not in safe  # GFM autolinks and Streamlit's own syntax need these contiguous
    assert "<" not in plain("<b>") and ">" not in plain("<b>")


def test_length_is_bounded():
    long = "x" * 10_000
    assert plain(long) == "x" * MAX_CHARS + "…"
    assert plain("[" * 10_000, limit=20) == "\\[" * 20 + "…"
    assert plain(12.5) == "12\\.5" and plain(None) == "None"


def test_a_list_line_indented_past_its_bullet_stays_text():
    """plain_lines keeps "- " bullets: five spaces after one would make the item a code block."""
    html = rendered(plain_lines("-      0\n-     [x](https://evil.example)"))
    assert set(re.findall(r"</?([a-z0-9]+)", html)) <= {"ul", "li", "p"}, html


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_renders_without_markup(text):
    html = rendered(plain(text))
    tags = set(re.findall(r"</?([a-z0-9]+)", html))
    assert tags <= {"p"}, (text, html)
    assert "\n" not in plain(text)
