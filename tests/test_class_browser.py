"""A student in a real browser (Debian's headless Chromium, a real server, a real redis-server): the
anonymous id is per browser, so a reload is the same student, and another browser is another one."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.classroom import format_code
from app.classroom.redis_store import RedisStore
from app.sections.classroom import CLIENT_COOKIE
from tests.serving import chromium_path, streamlit_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

if chromium_path() is None:
    pytest.skip("no chromium on PATH (Debian: apt-get install chromium)", allow_module_level=True)

LOAD_S = 180  # the first page starts TensorFlow


def wait_until(page, condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not after {timeout} s"
        page.wait_for_timeout(100)


def joined_page(context, url: str, code: str):
    page = context.new_page()
    page.set_default_timeout(LOAD_S * 1000)
    page.goto(url)
    page.get_by_text(f"Class {format_code(code)}").first.wait_for()
    return page


def client_cookie(context) -> str | None:
    return next((c["value"] for c in context.cookies() if c["name"] == CLIENT_COOKIE), None)


def test_a_reload_is_the_same_student_and_another_browser_another(browser, redis_url, tmp_path):
    store = RedisStore(redis_url)
    code, key = store.create_class()
    with streamlit_server(tmp_path, env={"RNN_CLASS_STORE": redis_url}) as server:
        url = f"{server.url}/?class={code}"
        first = browser.new_context()
        page = joined_page(first, url, code)
        wait_until(page, lambda: client_cookie(first) is not None, 30, "the client id cookie")
        assert store.presence(code, key).joined == 1
        held = client_cookie(first)

        page.reload()  # the same browser: the cookie goes with the new session
        page.get_by_text(f"Class {format_code(code)}").first.wait_for()
        assert store.presence(code, key).joined == 1
        assert client_cookie(first) == held

        second = browser.new_context()  # another browser: another student
        other = joined_page(second, url, code)
        wait_until(other, lambda: client_cookie(second) is not None, 30, "the second cookie")
        assert client_cookie(second) != held
        assert store.presence(code, key).joined == 2
        first.close()
        second.close()


HOSTILE_COOKIES = [
    "<script>alert(1)</script>",
    "x" * 5000,
    "short",
    "'; document.cookie='y",
    "../../../../etc/passwd",
]


def test_a_hostile_client_cookie_is_replaced_by_a_fresh_id(redis_url, tmp_path):
    """Over Streamlit's websocket protocol, as an attacker: the id cookie carries anything at all."""
    from bench.class_follow import ClassClient

    store = RedisStore(redis_url)
    code, key = store.create_class()

    async def visit(cookie: str):
        # ClassClient sends "Cookie: st_route=<its value>": the id cookie rides after it
        client = ClassClient(url, query_string=f"class={code}", cookie=f"r; {CLIENT_COOKIE}={cookie}")
        try:
            return await client.open(), client
        finally:
            await client.close()

    with streamlit_server(tmp_path, env={"RNN_CLASS_STORE": redis_url}) as server:
        url = server.url
        for n, cookie in enumerate(HOSTILE_COOKIES, start=1):
            with ThreadPoolExecutor(1) as pool:  # (Playwright's sync API may hold this thread's loop)
                result, client = pool.submit(asyncio.run, visit(cookie)).result()
            assert result.exceptions == [] and result.ok, (cookie[:40], result.errors)
            assert store.presence(code, key).joined == n  # a fresh id: a new student, not a crash
            bodies = [str(msg) for msg in client.elements.values()]
            assert not any(cookie in body for body in bodies if len(cookie) > 6)  # never echoed
