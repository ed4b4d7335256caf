"""app/static_cache.py: the browser's files compressed once and served from memory, byte for byte the
files on disk, with HTTP's caching rules; what is no file (the SPA's page, a traversal, a range) as
Streamlit answers it. A real server, and the middleware alone around a counting inner app."""

from __future__ import annotations

import asyncio
import gzip
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import streamlit

from app import static_cache
from app.static_cache import StaticCache
from tests.serving import ROOT, streamlit_server

GZIP = {"Accept-Encoding": "gzip"}
STREAMLIT_STATIC = Path(streamlit.__file__).parent / "static"
PLOTLY = ROOT / "app" / "static" / "plotly-cartesian.min.js"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with streamlit_server(tmp_path_factory.mktemp("static")) as running:
        yield running


def get(url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def bundles(server) -> list[str]:
    """The page's own script and style paths, from its index.html (hashed names: Streamlit's version)."""
    _, _, page = get(server.url + "/")
    found = re.findall(rb'(?:src|href)="\.?(/?static/[^"]+\.(?:js|css))"', page)
    return ["/" + path.decode().lstrip("/") for path in found]


def smallest(url: str, timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """A kept file's answer once its smallest form is made (the first answers carry a quicker one,
    Cache-Control: no-store)."""
    deadline = time.monotonic() + timeout
    while (answer := get(url, **GZIP))[1].get("cache-control") == "no-store":
        assert time.monotonic() < deadline, "the smaller form was never made"
    return answer


def test_a_bundle_is_sent_gzipped_and_unpacks_to_the_file_on_disk(server):
    path = next(p for p in bundles(server) if p.endswith(".js"))
    on_disk = (STREAMLIT_STATIC / path.lstrip("/")).read_bytes()
    smallest(server.url + path)
    answers = [get(server.url + path, **{"Accept-Encoding": "gzip, deflate, br"}) for _ in range(2)]
    for status, headers, body in answers:  # (the second from memory)
        assert status == 200 and headers["content-encoding"] == "gzip"
        assert gzip.decompress(body) == on_disk and int(headers["content-length"]) == len(body)
        assert headers["vary"] == "Accept-Encoding" and "immutable" in headers["cache-control"]
    status, headers, body = get(server.url + path)  # a client that takes no gzip: the file as is
    assert status == 200 and "content-encoding" not in headers and body == on_disk
    assert headers["etag"] != answers[0][1]["etag"]  # (two representations, two tags)


def test_plotly_js_once_compressed_is_the_file(server):
    status, headers, body = get(
        server.url + "/app/static/plotly-cartesian.min.js", **{"Accept-Encoding": "gzip"}
    )
    assert status == 200 and headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == PLOTLY.read_bytes() and len(body) < PLOTLY.stat().st_size / 2


def test_a_matching_etag_gets_304_and_no_body(server):
    path = next(p for p in bundles(server) if p.endswith(".css"))
    _, headers, _ = smallest(server.url + path)  # (the first, quicker form's tag is gone once it is made)
    status, _, body = get(server.url + path, **{"Accept-Encoding": "gzip", "If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    status, _, body = get(server.url + path, **{"Accept-Encoding": "gzip", "If-None-Match": '"other"'})
    assert status == 200 and body


def test_the_page_is_kept_too_and_each_visit_still_revalidates_it(server):
    """`/` (index.html, which every visit asks for, a share link's query string or not) from memory:
    gzipped, the file on disk; still no-cache (a new build's page is never missed), 304 on its tag."""
    on_disk = (STREAMLIT_STATIC / "index.html").read_bytes()
    for query in ("", "?s=eJyrVkrLz1eyUirOSMxLTlWyMjQwqAUAQbQGJg"):
        status, headers, body = get(server.url + "/" + query, **GZIP)
        assert status == 200 and headers["content-encoding"] == "gzip" and gzip.decompress(body) == on_disk
        assert headers["cache-control"] in ("no-cache", "no-store") and headers["content-type"].startswith(
            "text/html"
        )
    _, headers, _ = smallest(server.url + "/")
    assert headers["cache-control"] == "no-cache"
    status, _, body = get(server.url + "/", **GZIP, **{"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert get(server.url + "/")[2] == on_disk  # (no gzip asked: as is)


def test_the_tabs_icon_is_kept_as_a_file(server):
    """`/favicon.png` (every visit asks for it, outside /static/): the file on disk, cacheable, then
    from memory with the same tag (304 on it)."""
    on_disk = (STREAMLIT_STATIC / "favicon.png").read_bytes()
    answers = [get(server.url + "/favicon.png", **GZIP) for _ in range(2)]
    for status, headers, body in answers:
        assert status == 200 and body == on_disk and headers["content-type"] == "image/png"
        assert "content-encoding" not in headers and "immutable" in headers["cache-control"]
    assert answers[0][1]["etag"] == answers[1][1]["etag"]
    status, _, body = get(server.url + "/favicon.png", **{"If-None-Match": answers[1][1]["etag"]})
    assert (status, body) == (304, b"")


def test_what_is_no_file_is_answered_as_streamlit_does(server):
    _, _, page = get(server.url + "/")
    for _ in range(2):  # an unknown path is the SPA's page, each time (never kept as a file)
        status, headers, body = get(server.url + "/static/js/nothing-here.js", **{"Accept-Encoding": "gzip"})
        assert status == 200 and headers["content-type"].startswith("text/html") and body == page
    assert get(server.url + "/static/js/../../index.html")[0] == 400
    status, _, body = get(server.url + "/app/static/../main.py")
    assert status != 200 or b"st.set_page_config" not in body
    path = "/app/static/plotly-cartesian.min.js"
    status, headers, body = get(server.url + path, Range="bytes=0-99")  # a range: Streamlit's own
    assert status == 206 and body == PLOTLY.read_bytes()[:100]


def test_a_class_asking_at_once_gets_the_same_file(tmp_path):
    """On a fresh server, 24 requests at once for a file not yet kept: one load, every body the file."""
    with streamlit_server(tmp_path) as fresh:
        path = next(p for p in bundles(fresh) if p.endswith(".js"))
        on_disk = (STREAMLIT_STATIC / path.lstrip("/")).read_bytes()
        with ThreadPoolExecutor(24) as pool:
            answers = list(pool.map(lambda _: get(fresh.url + path, **GZIP), range(24)))
    assert all(status == 200 and gzip.decompress(body) == on_disk for status, _, body in answers)


# ---- the middleware alone ------------------------------------------------------------------------


class Inner:
    """An inner app that serves every path as a JavaScript file of `size` bytes, and counts calls."""

    def __init__(self, size: int = 4000) -> None:
        self.calls: list[str] = []
        self.size = size

    async def __call__(self, scope, receive, send) -> None:
        self.calls.append(scope["path"])
        headers = [(b"content-type", b"application/javascript"), (b"etag", b'"e"')]
        headers.append((b"cache-control", b"public, immutable"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"x" * self.size})


async def call(app: StaticCache, path: str, query: bytes = b"", gzip_ok: bool = False) -> list[dict]:
    """One GET through the middleware: the messages it sends."""
    sent: list[dict] = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b""}

    async def send(message: dict) -> None:
        sent.append(message)

    headers = [(b"accept-encoding", b"gzip")] if gzip_ok else []
    scope = {"type": "http", "method": "GET", "path": path, "query_string": query, "headers": headers}
    await app(scope, receive, send)
    return sent


def ask(app: StaticCache, path: str, query: bytes = b"") -> int:
    return asyncio.run(call(app, path, query))[0]["status"]


def test_a_file_is_sent_gzipped_at_once_then_smaller():
    """The first visitor does not wait for the smallest body (level 1 at once: a cold start was ~0.4 s
    later with every file at level 9 first); once the level-9 form is made, later visitors get it, with
    its own tag."""

    async def visits() -> tuple[list[dict], list[dict], StaticCache]:
        app = StaticCache(Inner(size=300_000))
        first = await call(app, "/static/js/a.js", gzip_ok=True)
        await asyncio.gather(*app.tasks)
        return first, await call(app, "/static/js/a.js", gzip_ok=True), app

    first, later, app = asyncio.run(visits())
    tags = [dict(sent[0]["headers"])[b"etag"] for sent in (first, later)]
    assert tags == [b'"e-gzip1"', b'"e-gzip9"']
    caching = [dict(sent[0]["headers"]).get(b"cache-control") for sent in (first, later)]
    assert caching == [b"no-store", b"public, immutable"]  # (the first form kept by no proxy)
    bodies = [sent[1]["body"] for sent in (first, later)]
    assert [gzip.decompress(body) for body in bodies] == [b"x" * 300_000] * 2
    assert len(bodies[1]) < len(bodies[0]) and app.kept["/static/js/a.js"].level == 9


def test_the_query_string_names_no_other_file_and_the_total_kept_is_bounded(monkeypatch):
    inner = Inner()
    app = StaticCache(inner)
    for n in range(50):  # (a visitor making up query strings)
        assert ask(app, "/static/js/a.js", f"v={n}".encode()) == 200
    assert inner.calls == ["/static/js/a.js"] and list(app.kept) == ["/static/js/a.js"]
    monkeypatch.setattr(static_cache, "MAX_BYTES", app.bytes + 10)
    ask(app, "/static/js/b.js")
    ask(app, "/static/js/b.js")
    assert inner.calls.count("/static/js/b.js") == 2 and "/static/js/b.js" not in app.kept
    ask(app, "/_stcore/health")
    assert inner.calls[-1] == "/_stcore/health" and "/_stcore/health" not in app.kept


def test_an_answer_that_sets_a_cookie_or_a_page_elsewhere_is_never_kept():
    class Cookie(Inner):
        async def __call__(self, scope, receive, send) -> None:
            self.calls.append(scope["path"])
            headers = [(b"content-type", b"text/html"), (b"etag", b'"p"'), (b"set-cookie", b"a=1")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"<html>" * 300})

    inner = Cookie()
    app = StaticCache(inner)
    for path in ["/", "/", "/static/js/page", "/static/js/page"]:
        assert ask(app, path) == 200
    assert inner.calls == ["/", "/", "/static/js/page", "/static/js/page"] and app.kept == {}


def test_of_the_paths_beside_the_page_only_the_icon_is_kept():
    inner = Inner()
    app = StaticCache(inner)
    for path in ["/favicon.png", "/favicon.png", "/manifest.jsonx", "/manifest.jsonx", "/x/favicon.png"] * 2:
        assert ask(app, path) == 200
    assert inner.calls.count("/favicon.png") == 1 and list(app.kept) == ["/favicon.png"]
    assert inner.calls.count("/manifest.jsonx") == 4 and inner.calls.count("/x/favicon.png") == 2


def test_another_spelling_of_a_path_is_not_kept_again():
    inner = Inner()
    app = StaticCache(inner)
    spellings = ["/static//js/a.js", "/static/js/./a.js", "/static/x/../js/a.js", "/static/js/a.js/"]
    for path in spellings * 2:
        assert ask(app, path) == 200
    assert inner.calls == spellings * 2 and app.kept == {}


def test_install_puts_the_cache_first_once():
    from streamlit.web.server.starlette import starlette_app

    original = starlette_app.create_streamlit_middleware
    try:
        static_cache.install()
        static_cache.install()
        stack = starlette_app.create_streamlit_middleware()
        assert [m.cls for m in stack].count(StaticCache) == 1 and stack[0].cls is StaticCache
    finally:
        starlette_app.create_streamlit_middleware = original
