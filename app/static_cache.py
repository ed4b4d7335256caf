"""The browser's files (Streamlit's own bundles, our charts code and plotly.js), compressed once per
process and served from memory.

A visitor's first page fetches ~143 files (~6.5 MB: Streamlit's JavaScript, CSS, fonts; app/static's
charts.js and plotly.js). Streamlit 1.67 serves its own bundles uncompressed, each through the whole
ASGI stack (~1 ms of CPU per file), and gzips app/static's at level 9 on every request (plotly.js:
52 ms). That was 160–214 ms of the server's CPU and 5.6 MB on the wire per visitor (bench/visit.py),
8–10× the CPU of the page's first run: when a class opens the link together, the files, not the
runs, filled the cores (docs/PERFORMANCE.md). Streamlit leaves compression and caching to a proxy in
front; the plain image has none, and the deployment's nginx passed every request through (it now
keeps them too: deploy/nginx/default.conf.template).

Here a static file's first 200 response is kept (its body, gzipped in a worker thread: at level 1 at
once, ~4 ms for the whole page's files, then at level 9 in the background, 15% smaller; the first
visitor waited ~0.4 s longer for its page when every file was compressed at level 9 before it was
sent) and later requests for the same path are answered from memory, before any of Streamlit's middleware:
gzipped for a browser that accepts it, as is for one that does not, 304 for a matching If-None-Match.
Only what the inner app served with 200 is kept, so its path checks still decide what exists: an
unknown path is the SPA's index.html (text/html, never kept) and a traversal is refused as before.
The query string does not name another file (it is not part of the key), nor does another spelling
of the path (only the path as normalized is kept; `/static//js/a.js` goes through); a Range request
goes through. The total kept is bounded (MAX_BYTES).

The tab's icon, `/favicon.png` (at the root, outside /static/: 1 ms of CPU per visit through
Streamlit), is kept as a file too. The page itself, `/` (index.html, with or without a share link's
query string), is kept the same way: Streamlit reads it from disk through a worker thread for every
visitor, 1.1 ms of CPU (0.3 ms from here; a first run is ~20 ms), and every visit, a browser's cache
full or empty, asks for it (Cache-Control: no-cache: a revalidation then gets 304 here). Only `/`: any
other path's text/html is the SPA's page for a path that is no file. No answer that sets a cookie is
ever kept.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import posixpath
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

PREFIXES = ("/static/", "/app/static/")
ROOT_FILES = ("/favicon.png",)  # Streamlit's files beside index.html that a visit asks for
PAGE = "/"  # the page's index.html (a 200 text/html answer elsewhere is no file: never kept)
MAX_BYTES = 64 * 1024 * 1024  # every file kept, as is and gzipped (~8.5 MB for Streamlit 1.67 and ours)
MAX_FILE_BYTES = 8 * 1024 * 1024
COMPRESSIBLE = (
    "text/html",
    "text/css",
    "application/javascript",
    "text/javascript",
    "application/json",
    "image/svg+xml",
)
GZIP_FIRST, GZIP_LEVEL = 1, 9  # (the first visitor does not wait for the smallest body; later ones get it)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


@dataclass(frozen=True)
class Kept:
    headers: tuple[tuple[bytes, bytes], ...]  # the inner response's, less its length and encoding
    etag: bytes
    body: bytes
    gzipped: bytes | None  # None: not worth compressing (a font, an image)
    level: int = GZIP_FIRST  # gzipped's compression level (its own ETag)

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


class StaticCache:
    """ASGI middleware, outermost: static files from memory once served (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.kept: dict[str, Kept] = {}
        self.loading: dict[str, asyncio.Future[Kept | None]] = {}
        self.bytes = 0
        self.tasks: set[asyncio.Task[None]] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or scope.get("method") != "GET" or not _keepable(path):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))  # (lower-case names)
        if b"range" in headers:
            await self.app(scope, receive, send)
            return
        kept = self.kept.get(path)
        if kept is None and path in self.loading:  # (a class opening the page together: one load)
            kept = await asyncio.shield(self.loading[path])
        if kept is None and path in self.loading:  # (no file, asked again meanwhile)
            await self.app(scope, receive, send)
            return
        if kept is None:
            kept = await self._load(path, scope, receive, send)
        if kept is not None:  # (None: _load answered as Streamlit did)
            await _answer(kept, headers, send)

    async def _load(self, path: str, scope: Scope, receive: Receive, send: Send) -> Kept | None:
        """The inner app's answer for `path` as is (no Accept-Encoding), kept when it is a file (then
        returned); else sent to the client as the inner app gave it."""
        future: asyncio.Future[Kept | None] = asyncio.get_running_loop().create_future()
        self.loading[path] = future
        kept = None
        try:
            kept, start, body = await self._fetch(path, scope, receive)
            if kept is not None and self.bytes + kept.size <= MAX_BYTES:
                self.kept[path] = kept
                self.bytes += kept.size
                if kept.gzipped is not None:
                    task = asyncio.create_task(self._smaller(path, kept))
                    self.tasks.add(task)  # (a task only the loop refers to may be collected)
                    task.add_done_callback(self.tasks.discard)
        finally:
            future.set_result(kept)
            del self.loading[path]
        if kept is None:
            if body is None:  # (too big to have been kept whole: asked again)
                await self.app(scope, receive, send)
            else:
                await send(start)
                await send({"type": "http.response.body", "body": body})
        return kept

    async def _smaller(self, path: str, kept: Kept) -> None:
        """The kept file gzipped again at GZIP_LEVEL, in a worker thread, then served instead."""
        smaller = await asyncio.to_thread(gzip.compress, kept.body, GZIP_LEVEL, mtime=0)
        if self.kept.get(path) is kept:
            self.kept[path] = dataclasses.replace(kept, gzipped=smaller, level=GZIP_LEVEL)
            self.bytes += len(smaller) - len(kept.gzipped or b"")

    async def _fetch(
        self, path: str, scope: Scope, receive: Receive
    ) -> tuple[Kept | None, Message, bytes | None]:
        """The inner app's answer without Accept-Encoding: kept if a file (or the page), the start
        message, and the whole body (None past MAX_FILE_BYTES)."""
        plain = {**scope, "headers": [(k, v) for k, v in scope.get("headers", ()) if k != b"accept-encoding"]}
        start: Message = {}
        chunks: list[bytes] = []
        size = 0

        async def collect(message: Message) -> None:
            nonlocal size
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
                if size <= MAX_FILE_BYTES:
                    chunks.append(message.get("body", b""))

        await self.app(plain, receive, collect)
        body = b"".join(chunks) if size <= MAX_FILE_BYTES else None
        headers = {k.lower(): v for k, v in start.get("headers", ())}
        kind = headers.get(b"content-type", b"").split(b";")[0].strip().decode("latin-1")
        is_file = (kind != "text/html" or path == PAGE) and b"etag" in headers  # (text/html elsewhere:
        # the SPA's page for a path that is no file)
        if start.get("status") != 200 or not is_file or body is None or _not_kept(headers):
            return None, start, body
        gzipped = None
        if kind in COMPRESSIBLE and len(body) >= 1024:
            gzipped = await asyncio.to_thread(gzip.compress, body, GZIP_FIRST, mtime=0)
        dropped = (b"content-length", b"content-encoding", b"vary", b"date", b"connection")
        kept_headers = tuple((k, v) for k, v in start["headers"] if k.lower() not in dropped)
        return Kept(kept_headers, headers[b"etag"], body, gzipped), start, body


def _keepable(path: str) -> bool:
    """The page, or a static file's own path as the page writes it: Streamlit also serves a file under
    other spellings (`/static//js/a.js`, `/static/js/./a.js`), which would each be kept again; those go
    through."""
    return path in (PAGE, *ROOT_FILES) or (path.startswith(PREFIXES) and posixpath.normpath(path) == path)


def _not_kept(headers: dict[bytes, bytes]) -> bool:
    """An answer already encoded, or one that sets a cookie (it is that visitor's alone)."""
    return b"content-encoding" in headers or b"set-cookie" in headers


async def _answer(kept: Kept, request: dict[bytes, bytes], send: Send) -> None:
    accepts = b"gzip" in request.get(b"accept-encoding", b"").lower()
    zipped = accepts and kept.gzipped is not None
    tagged = kept.etag.endswith(b'"')
    etag = kept.etag[:-1] + b'-gzip%d"' % kept.level if zipped and tagged else kept.etag
    asked = request.get(b"if-none-match", b"")
    vary = ((b"vary", b"Accept-Encoding"),) if kept.gzipped is not None else ()
    headers = [*((k, v) for k, v in kept.headers if k.lower() != b"etag"), (b"etag", etag), *vary]
    if zipped and kept.level < GZIP_LEVEL:  # (a first form, for the first visitors only: no proxy in
        # front, nginx, may keep it: it would serve it for days instead of the smaller one)
        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"] + [
            (b"cache-control", b"no-store")
        ]
    if asked and etag in [tag.strip() for tag in asked.split(b",")]:
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    body = kept.gzipped if zipped and kept.gzipped is not None else kept.body
    encoding = ((b"content-encoding", b"gzip"),) if zipped else ()
    length = ((b"content-length", str(len(body)).encode()),)
    await send({"type": "http.response.start", "status": 200, "headers": [*headers, *encoding, *length]})
    await send({"type": "http.response.body", "body": body})


def install() -> None:
    """Put StaticCache outside Streamlit's own middleware (app/serve.py patch_streamlit)."""
    from starlette.middleware import Middleware
    from streamlit.web.server.starlette import starlette_app

    original = starlette_app.create_streamlit_middleware
    if getattr(original, "static_cache", False):
        return

    def with_cache() -> list[Middleware]:
        return [Middleware(StaticCache), *original()]

    with_cache.static_cache = True  # type: ignore[attr-defined]
    starlette_app.create_streamlit_middleware = with_cache
