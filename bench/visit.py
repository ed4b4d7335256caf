"""What a browser with an empty cache fetches before the page's first run: index.html and its files
(Streamlit's JavaScript, CSS and fonts; the charts' code and plotly.js), ~143 requests.

    .venv/bin/python -m bench.visit [--visitors 5] [--env K=V ...]

`record(url)` asks headless Chromium which files a first visit loads (their names carry Streamlit's
build hashes: recorded from the running server, never written down). `fetch(door, paths)` gets them
as a browser does: six keep-alive connections, gzip accepted, the affinity cookie sent, every answer
checked (200, its whole body). The load generator's stampede with files (bench/load.py `fN`) opens
the page this way; run as a module, this prints what one visitor's files cost the server (CPU from
/proc), A (as committed) against B (--env, default RNN_STATIC_CACHE=0: Streamlit's own file serving),
alternating. With --proxy REV the visitors come through deploy/'s nginx (one replica behind it, as
the image runs), A its template at REV against B this checkout's, many visitors at once (--visitors,
default 150): the CPU of nginx and of the replica per visitor, once every file is in nginx's cache.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import urllib.parse

from bench.browser import CHARTS_READY_JS, VIEWPORT, _launch

CONNECTIONS = 6  # a browser's connections per host over HTTP/1.1


def record(url: str) -> list[str]:
    """The paths (with their query strings) of every GET a first visit to `url` makes, in order, but
    the websocket: headless Chromium loads the page until its charts are drawn."""
    from playwright.sync_api import sync_playwright

    base = url.rstrip("/")
    paths: list[str] = []
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport=VIEWPORT)
        page.on("request", lambda r: paths.append(r.url[len(base) :]) if r.url.startswith(base) else None)
        page.goto(base + "/")
        page.wait_for_function(CHARTS_READY_JS, timeout=120_000, polling=20)
        browser.close()
    return [p for p in dict.fromkeys(paths) if not p.startswith("/_stcore/stream")]


async def fetch(door: tuple[str, str | None], paths: list[str], timeout: float = 120.0) -> int:
    """Every path over CONNECTIONS keep-alive connections, as a browser with an empty cache; the bytes
    received. Raises on an answer other than 200 or a body cut short."""
    url = urllib.parse.urlsplit(door[0])
    queue: asyncio.Queue[str] = asyncio.Queue()
    for path in paths:
        queue.put_nowait(path)
    received = 0

    async def connection() -> None:
        nonlocal received
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            while not queue.empty():
                path = queue.get_nowait()
                cookie = f"Cookie: {door[1]}\r\n" if door[1] else ""
                request = (
                    f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAccept-Encoding: gzip, deflate, br\r\n"
                    f"{cookie}Connection: keep-alive\r\n\r\n"
                )
                writer.write(request.encode())
                size = await asyncio.wait_for(_response(reader, path), timeout)
                received += size  # (not `received += await ...`: that reads `received` before the wait)
        finally:
            writer.close()

    await asyncio.gather(*(connection() for _ in range(min(CONNECTIONS, len(paths)))))
    return received


async def _response(reader: asyncio.StreamReader, path: str) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
    if status != 200:
        raise RuntimeError(f"{path}: {status}")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        size = 0
        while (chunk := int((await reader.readuntil(b"\r\n")).strip(), 16)) > 0:
            size += len(await reader.readexactly(chunk + 2)) - 2
        await reader.readuntil(b"\r\n")  # (the chunked body's last empty line)
        return size
    return len(await reader.readexactly(int(headers["content-length"])))


def through_nginx(before: str, visitors: int, rounds: int) -> None:
    """deploy/'s nginx template at `before` (A) against this checkout's (B), alternating: nginx's and
    the replica's CPU per visitor, `visitors` browsers at once, every file already in nginx's cache."""
    import subprocess
    import tempfile
    from pathlib import Path

    from bench.before_after import served
    from bench.common import ROOT, Table, children, cpu_seconds, in_turn
    from bench.load import deployed_env
    from tests.test_deploy import TEMPLATE, nginx_proxy

    table = Table(
        f"A first visit's files through nginx, {visitors} visitors at once (its cache filled)",
        ["round", "variant", "requests", "nginx CPU ms per visitor", "replica CPU ms per visitor"],
    )
    with tempfile.TemporaryDirectory() as tmp, served(ROOT, env=deployed_env()) as (url, pid):
        old = Path(tmp) / "before.template"
        git = ["git", "-C", str(ROOT), "show", f"{before}:{TEMPLATE.relative_to(ROOT)}"]
        old.write_text(subprocess.run(git, check=True, capture_output=True, text=True).stdout)
        paths = record(url)
        port = int(url.rsplit(":", 1)[1])
        for round_ in range(1, rounds + 1):
            for label, template in in_turn(((f"A: {before}", old), ("B: this checkout", TEMPLATE)), round_):
                with nginx_proxy(Path(tmp) / f"nginx{round_}{label[0]}", [port], template) as proxy:
                    door = (proxy.url, None)
                    for _ in range(3):  # (every file into nginx's cache: a replica's first answers
                        asyncio.run(fetch(door, paths))  # are a quicker form no proxy keeps)
                    nginx = [proxy.process.pid, *children(proxy.process.pid)]
                    start = sum(cpu_seconds(p) or 0.0 for p in nginx), cpu_seconds(pid) or 0.0

                    asyncio.run(_together(door, paths, visitors))
                    spent = sum(cpu_seconds(p) or 0.0 for p in nginx) - start[0]
                    replica = (cpu_seconds(pid) or 0.0) - start[1]
                per_visitor = (f"{cpu / visitors * 1000:.2f}" for cpu in (spent, replica))
                table.add(round_, label, len(paths), *per_visitor)
    print(table.markdown())


async def _together(door: tuple[str, str | None], paths: list[str], visitors: int) -> None:
    await asyncio.gather(*(fetch(door, paths) for _ in range(visitors)))


def main() -> None:
    from bench.before_after import env_option, served
    from bench.common import ROOT, Table, cpu_seconds, in_turn

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--visitors", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--proxy", metavar="REV", help="through nginx: its template at REV against this")
    env_option(parser)
    args = parser.parse_args()
    if args.proxy:
        through_nginx(args.proxy, args.visitors or 150, args.rounds or 3)
        return
    args.visitors, args.rounds = args.visitors or 5, args.rounds or 2
    env_b = dict(args.env) or {"RNN_STATIC_CACHE": "0"}
    table = Table(
        "A first visit's files (a browser with an empty cache), one visitor at a time",
        [
            "round",
            "variant",
            "requests",
            "MB received per visitor",
            "server CPU ms per visitor",
            "ms per visitor",
        ],
    )
    for round_ in range(1, args.rounds + 1):
        for label, env in in_turn((("A: as committed", {}), (f"B: {env_b}", env_b)), round_):
            with served(ROOT, env=env) as (url, pid):
                paths = record(url)
                asyncio.run(fetch((url, None), paths))  # (the first: the files loaded once)
                start, t0 = cpu_seconds(pid) or 0.0, time.perf_counter()
                received = sum(asyncio.run(fetch((url, None), paths)) for _ in range(args.visitors))
                cpu = ((cpu_seconds(pid) or 0.0) - start) / args.visitors * 1000
                seconds = (time.perf_counter() - t0) / args.visitors
            table.add(
                round_,
                label,
                len(paths),
                f"{received / args.visitors / 1e6:.2f}",
                f"{cpu:.0f}",
                f"{seconds * 1000:.0f}",
            )
    print(table.markdown())


if __name__ == "__main__":
    main()
