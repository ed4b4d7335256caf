"""deploy/: the nginx config run for real in front of two Streamlit replicas; compose and k8s checked.

The nginx tests render deploy/nginx/default.conf.template exactly as the official nginx image does
(envsubst of the two placeholders only), include it in a minimal main config with non-root paths,
and run Debian's nginx on a free loopback port in front of two real `streamlit run app/main.py`
servers sharing one cookie secret. They stay on HTTP and the websocket handshake: the TensorFlow
worker never starts. The compose file and the manifests are parsed and checked without Docker or a
cluster (the manifests against Kubernetes' own schemas).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import websockets.exceptions
import yaml
from dockerfile_parse import DockerfileParser
from websockets.sync.client import ClientConnection, connect

from tests.serving import CHROMIUM_FLAGS, ROOT, Server, chromium_path, free_port, stop, streamlit_server

DEPLOY = ROOT / "deploy"
TEMPLATE = DEPLOY / "nginx" / "default.conf.template"
COMPOSE = DEPLOY / "compose.yaml"
K8S = DEPLOY / "k8s"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PLACEHOLDERS = {"NGINX_LISTEN", "APP_UPSTREAMS", "RNN_ALLOWED_HOSTS"}
ALLOWED_HOSTS = "127.0.0.1 localhost demo.test"  # what the tests use for RNN_ALLOWED_HOSTS
ROUTE_COOKIE = "st_route"
HEALTH = "/_stcore/health"

needs_nginx = pytest.mark.skipif(
    not Path(NGINX).exists(), reason="nginx is not installed (apt-get install nginx)"
)


# -- the template ----------------------------------------------------------------------------------


def envsubst(text: str, values: dict[str, str]) -> str:
    """`envsubst '${A} ${B}'`: replace $NAME and ${NAME} for the given names only, as the image does."""

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, match.group(0))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, text)


def template_headers() -> dict[str, str]:
    """The response headers the template adds, by name (the affinity cookie aside)."""
    found = re.findall(r'^\s*add_header\s+([\w-]+)\s+"([^"]*)"\s+always;', TEMPLATE.read_text(), re.M)
    return dict(found)


def test_template_placeholders_are_exactly_the_documented_ones():
    assert set(re.findall(r"\$\{(\w+)\}", TEMPLATE.read_text())) == PLACEHOLDERS


def test_csp_allows_streamlits_inline_script_by_hash():
    """The CSP names the hash of every inline script in the installed Streamlit's index.html."""
    import streamlit

    index = (Path(streamlit.__file__).parent / "static" / "index.html").read_text()
    inline = re.findall(r"<script>(.*?)</script>", index, re.S)
    assert inline, "Streamlit's page has no inline script any more: drop the hash from the CSP"
    csp = template_headers()["Content-Security-Policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in script_src, f"update the CSP hash for {script.strip()!r}"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


# -- nginx for real --------------------------------------------------------------------------------


@dataclass
class Proxy:
    url: str
    port: int
    process: subprocess.Popen
    access_log: Path

    def routed_to(self, probe: str, timeout: float = 5.0) -> list[int]:
        """The replica ports nginx tried for the request whose URL holds `probe`, in order."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.access_log.read_text().splitlines():
                if probe in line:
                    upstreams = line.split('"')[1]  # "127.0.0.1:A, 127.0.0.1:B"; "-": nginx's cache
                    if upstreams == "-":
                        return []
                    return [int(addr.rsplit(":", 1)[1]) for addr in upstreams.split(", ")]
            time.sleep(0.02)
        raise AssertionError(f"no access log line for {probe}")


def main_config(tmp: Path, conf_d: Path) -> str:
    """What the nginx image's nginx.conf does around conf.d, with every path in `tmp`."""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;" if os.geteuid() == 0 else ""  # workers as nobody could not write in tmp
    return f"""
{user}
worker_processes auto;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} info;
events {{ worker_connections 1024; }}
http {{
    sendfile on;
    keepalive_timeout 65;
{temp_paths}
    # Which replica served each request ($upstream_addr), for the tests; the template logs nothing.
    log_format routing '$request_uri "$upstream_addr" $status $st_route';
    access_log {tmp / "access.log"} routing;
    include {conf_d}/*.conf;
}}
"""


def write_config(tmp: Path, listen: str, upstream_ports: list[int], template: Path = TEMPLATE) -> Path:
    conf_d = tmp / "conf.d"
    conf_d.mkdir(parents=True, exist_ok=True)
    servers = "\n    ".join(f"server 127.0.0.1:{port};" for port in upstream_ports)
    values = {"NGINX_LISTEN": listen, "APP_UPSTREAMS": servers, "RNN_ALLOWED_HOSTS": ALLOWED_HOSTS}
    rendered = envsubst(template.read_text(), values)
    (conf_d / "default.conf").write_text(rendered)
    config = tmp / "nginx.conf"
    config.write_text(main_config(tmp, conf_d))
    return config


def nginx_command(tmp: Path, config: Path, *extra: str) -> list[str]:
    return [NGINX, "-p", str(tmp), "-e", str(tmp / "error.log"), "-c", str(config), *extra]


@contextlib.contextmanager
def nginx_proxy(tmp: Path, upstream_ports: list[int], template: Path = TEMPLATE) -> Iterator[Proxy]:
    tmp.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = write_config(tmp, f"127.0.0.1:{port}", upstream_ports, template)
    with open(tmp / "nginx.out", "wb") as out:
        process = subprocess.Popen(
            nginx_command(tmp, config, "-g", "daemon off;"),
            stdout=subprocess.DEVNULL,
            stderr=out,
            start_new_session=True,
        )
    proxy = Proxy(f"http://127.0.0.1:{port}", port, process, tmp / "access.log")
    try:
        deadline = time.monotonic() + 10
        while True:
            if process.poll() is not None:
                raise RuntimeError((tmp / "nginx.out").read_text() + (tmp / "error.log").read_text())
            with contextlib.suppress(OSError):
                get(proxy.url + HEALTH)
                break
            if time.monotonic() > deadline:
                raise TimeoutError("nginx did not answer")
            time.sleep(0.05)
        yield proxy
    finally:
        stop(process)


@dataclass
class Response:
    status: int
    headers: object  # email.message.Message: .get() and .get_all()
    body: bytes


def get(url: str, cookie: str | None = None, method: str = "GET", data: bytes | None = None) -> Response:
    request = urllib.request.Request(url, method=method, data=data)
    if cookie:
        request.add_header("Cookie", f"{ROUTE_COOKIE}={cookie}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Response(response.status, response.headers, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.headers, error.read())


def visit(proxy: Proxy, path: str = HEALTH, cookie: str | None = None) -> tuple[Response, int | None]:
    """One request through nginx; returns the response and the replica port that answered it (None:
    nginx answered from its cache)."""
    probe = uuid.uuid4().hex
    response = get(f"{proxy.url}{path}?probe={probe}", cookie)
    tried = proxy.routed_to(probe)
    return response, tried[-1] if tried else None


def route_cookie(response: Response) -> str | None:
    for header in response.headers.get_all("Set-Cookie") or []:
        if header.startswith(f"{ROUTE_COOKIE}="):
            return header.split(";")[0].split("=", 1)[1]
    return None


def first_visits(proxy: Proxy, ports: set[int], limit: int = 64) -> dict[int, str]:
    """New visitors until one has landed on each replica: {replica port: its affinity cookie}."""
    cookies: dict[int, str] = {}
    for _ in range(limit):
        response, port = visit(proxy, "/")
        assert response.status == 200 and b'<div id="root">' in response.body
        cookie = route_cookie(response)
        assert cookie, "a first visit must get the affinity cookie"
        cookies.setdefault(port, cookie)
        if set(cookies) == ports:
            return cookies
    raise AssertionError(f"{limit} new visitors never reached every replica: {cookies}")


def open_session(
    proxy: Proxy, cookie: str, origin: str | None = None, host: str = "127.0.0.1"
) -> ClientConnection:
    """The browser's websocket: its page's origin, the affinity cookie, Streamlit's subprotocol.

    `host` is the name the browser would use (sent as Host); the connection goes to nginx's port.
    """
    url = f"ws://{host}:{proxy.port}/_stcore/stream"
    return connect(
        url,
        sock=socket.create_connection(("127.0.0.1", proxy.port), timeout=10),
        origin=origin or f"http://{host}:{proxy.port}",
        subprotocols=["streamlit"],
        additional_headers={"Cookie": f"{ROUTE_COOKIE}={cookie}"},
        open_timeout=10,
    )


def metric(server: Server, name: str) -> int:
    """One of the replica's own counters (read on the replica: nginx does not serve them)."""
    text = get(server.url + "/_stcore/metrics").body.decode()
    return int(float(re.search(rf"^{re.escape(name)} (\S+)$", text, re.M).group(1)))


def active_sessions(server: Server) -> int:
    return metric(server, "active_sessions")


def wait_sessions(server: Server, expected: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while active_sessions(server) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"{server.url}: {active_sessions(server)} sessions, expected {expected}")
        time.sleep(0.05)


def logged(proxy: Proxy, text: str, count: int, timeout: float = 5.0) -> int:
    """How many lines of nginx's access log hold `text`, waiting up to `timeout` s for `count` of them
    (nginx writes a request's line after sending its response: the client can read the log first)."""
    deadline = time.monotonic() + timeout
    while (found := proxy.access_log.read_text().count(text)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def image_env() -> dict[str, str]:
    """The Dockerfile's ENV, which every replica of the image runs with (its port aside)."""
    env = DockerfileParser(str(ROOT / "Dockerfile")).envs
    return {name: value for name, value in env.items() if name != "STREAMLIT_SERVER_PORT"}


@contextlib.contextmanager
def replicas_behind_nginx(tmp: Path) -> Iterator[tuple[Server, Server, Proxy]]:
    """Two `streamlit run app/main.py` servers with the image's ENV and one cookie secret, nginx in front."""
    env = {
        **image_env(),
        "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),
        "STREAMLIT_SERVER_ALLOWED_HOSTS": ALLOWED_HOSTS,
    }
    with (
        streamlit_server(tmp, env=env) as a,
        streamlit_server(tmp, env=env) as b,
        nginx_proxy(tmp / "nginx", [a.port, b.port]) as proxy,
    ):
        yield a, b, proxy


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[tuple[Server, Server, Proxy]]:
    with replicas_behind_nginx(tmp_path_factory.mktemp("cluster")) as servers:
        yield servers


@needs_nginx
def test_rendered_config_passes_nginx_t(tmp_path):
    config = write_config(tmp_path, "127.0.0.1:8080", [8501, 8502])
    result = subprocess.run(nginx_command(tmp_path, config, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@needs_nginx
@pytest.mark.slow
def test_a_visitor_stays_on_one_replica(cluster):
    a, b, proxy = cluster
    cookies = first_visits(proxy, {a.port, b.port})
    for port, cookie in cookies.items():
        for path in ["/", HEALTH, "/_stcore/host-config", "/favicon.png"]:
            response, served_by = visit(proxy, path, cookie)
            assert response.status == 200, path
            cached = path in ("/_stcore/host-config", "/favicon.png")  # (the same for every visitor)
            assert served_by == port or (cached and served_by is None), (
                f"{path} with the cookie of {port} went to {served_by}"
            )
            assert route_cookie(response) is None, "a returning visitor keeps their cookie"


@needs_nginx
@pytest.mark.slow
def test_websocket_upgrades_through_nginx_on_the_cookies_replica(cluster):
    a, b, proxy = cluster
    cookies = first_visits(proxy, {a.port, b.port})
    for server, other in [(a, b), (b, a)]:
        before = active_sessions(other)
        with open_session(proxy, cookies[server.port]) as ws:
            assert ws.subprotocol == "streamlit"
            wait_sessions(server, 1)
            assert active_sessions(other) == before
            assert ws.ping().wait(5), "no pong through nginx"
        wait_sessions(server, 0)


@needs_nginx
@pytest.mark.slow
def test_a_named_host_keeps_its_port_for_streamlits_origin_check(cluster):
    """Streamlit accepts a websocket when Origin matches Host; nginx must pass Host with its port."""
    a, b, proxy = cluster
    cookies = first_visits(proxy, {a.port, b.port})
    with open_session(proxy, cookies[a.port], host="demo.test") as ws:
        assert ws.subprotocol == "streamlit"
        wait_sessions(a, 1)
    wait_sessions(a, 0)


@needs_nginx
@pytest.mark.slow
def test_foreign_origins_are_refused_by_nginx(cluster):
    a, b, proxy = cluster
    connects = [metric(s, 'session_events_total{type="connect"}') for s in (a, b)]
    for origin in ["https://evil.example", "null", f"http://127.0.0.1:{proxy.port}.evil.example"]:
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            open_session(proxy, "any", origin=origin)
        assert refused.value.response.status_code == 403, origin
    probe = uuid.uuid4().hex
    request = urllib.request.Request(
        f"{proxy.url}{HEALTH}?probe={probe}", headers={"Origin": "https://evil.example"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert logged(proxy, '"-" 403', 4) >= 4, "refused by nginx, never proxied"
    assert [metric(s, 'session_events_total{type="connect"}') for s in (a, b)] == connects


@needs_nginx
@pytest.mark.slow
def test_security_headers_through_nginx(cluster):
    _, _, proxy = cluster
    expected = template_headers()
    assert {"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} <= set(
        expected
    )
    for path in ["/", HEALTH, "/_stcore/host-config", "/no-such-page"]:
        response, _ = visit(proxy, path)
        for name, value in expected.items():
            assert response.headers.get(name) == value, f"{name} on {path}"
        assert response.headers.get("Server") == "nginx", "no version, and not uvicorn"
    first, _ = visit(proxy, "/")
    cookie = next(c for c in first.headers.get_all("Set-Cookie") if c.startswith(ROUTE_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    health, _ = visit(proxy, HEALTH)
    xsrf = [c for c in health.headers.get_all("Set-Cookie") if c.startswith("_streamlit_xsrf=")]
    assert xsrf and "SameSite=Lax" in xsrf[0], "Streamlit's XSRF cookie passes through"


def upstream_of(proxy: Proxy, probe: str, timeout: float = 5.0) -> str:
    """The access log's upstream field for the request holding `probe`: "-" when nginx answered it
    from its cache."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in proxy.access_log.read_text().splitlines():
            if probe in line:
                return line.split('"')[1]
        time.sleep(0.02)
    raise AssertionError(f"no access log line for {probe}")


def fetch_through(proxy: Proxy, path: str, gzip_ok: bool) -> tuple[Response, str]:
    probe = uuid.uuid4().hex
    request = urllib.request.Request(f"{proxy.url}{path}?probe={probe}")
    if gzip_ok:
        request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request, timeout=10) as response:
        found = Response(response.status, response.headers, response.read())
    return found, upstream_of(proxy, probe)


@needs_nginx
@pytest.mark.slow
def test_the_browsers_files_come_from_nginxs_cache(cluster):
    """A bundle asked for again is answered by nginx alone (no replica in the log), gzipped for a
    browser and unzipped for a client that takes no gzip, byte for byte the file, with the security
    headers; an unknown path under /static/ (a replica's index.html) is never kept."""
    import gzip

    import streamlit

    _, _, proxy = cluster
    index = get(proxy.url + "/").body
    path = "/" + re.findall(rb'src="\.?/?(static/js/[^"]+\.js)"', index)[0].decode()
    on_disk = (Path(streamlit.__file__).parent / "static" / path.lstrip("/")).read_bytes()
    # A replica's first answers are a quicker form that no proxy keeps: asked until nginx answers alone.
    deadline = time.monotonic() + 30
    while fetch_through(proxy, path, gzip_ok=True)[1] != "-":
        assert time.monotonic() < deadline, "nginx never kept the file"
    zipped, upstream = fetch_through(proxy, path, gzip_ok=True)
    assert upstream == "-" and zipped.headers.get("Content-Encoding") == "gzip"
    assert gzip.decompress(zipped.body) == on_disk
    plain, upstream = fetch_through(proxy, path, gzip_ok=False)
    assert upstream == "-" and plain.headers.get("Content-Encoding") is None and plain.body == on_disk
    for name, value in template_headers().items():
        assert zipped.headers.get(name) == value, name
    for _ in range(2):
        page, upstream = fetch_through(proxy, "/static/js/no-such-file.js", gzip_ok=True)
        assert page.headers.get("Content-Type", "").startswith("text/html") and upstream != "-"


@needs_nginx
@pytest.mark.slow
def test_the_icon_and_the_clients_settings_come_from_nginxs_cache_the_health_check_never(cluster):
    """What every visit asks for beside the files: the tab's icon and the client's settings
    (host-config, marked no-cache by Streamlit: still so for the browser) are answered by nginx once a
    replica has; the health check always reaches a replica and sets each visitor's own XSRF cookie."""
    import streamlit

    _, _, proxy = cluster
    icon = (Path(streamlit.__file__).parent / "static" / "favicon.png").read_bytes()
    for path in ("/favicon.png", "/_stcore/host-config"):
        first, _ = fetch_through(proxy, path, gzip_ok=True)
        again, upstream = fetch_through(proxy, path, gzip_ok=True)
        assert upstream == "-" and again.status == 200 and again.body == first.body, path
        assert again.headers.get("Content-Security-Policy") == template_headers()["Content-Security-Policy"]
    assert again.headers.get("Cache-Control") == "no-cache" and json.loads(again.body)["allowedOrigins"] == []
    assert fetch_through(proxy, "/favicon.png", gzip_ok=False)[0].body == icon
    cookies = []
    for _ in range(2):
        health, upstream = fetch_through(proxy, HEALTH, gzip_ok=True)
        assert upstream != "-" and health.body == b"ok"
        cookies += [c for c in health.headers.get_all("Set-Cookie") if c.startswith("_streamlit_xsrf=")]
    assert len(set(cookies)) == 2


@needs_nginx
@pytest.mark.slow
def test_limits_through_nginx(cluster):
    """Uploads past the app's cap stop at nginx; the replicas' metrics are not public."""
    _, _, proxy = cluster
    big = get(proxy.url + "/_stcore/upload_file/s/f", method="PUT", data=b"x" * (7 * 1024 * 1024))
    assert big.status == 413
    small = get(proxy.url + "/_stcore/upload_file/s/f", method="PUT", data=b"{}")
    assert small.status == 403, "reaches Streamlit, which wants the XSRF token"
    assert get(proxy.url + "/_stcore/metrics").status == 404
    assert get(proxy.url + "/_stcore/agent/openapi.json").status == 404
    assert get(proxy.url + "/_stcore/host-config").status == 200  # the client needs it to connect


@needs_nginx
@pytest.mark.slow
def test_a_dead_replica_leaves_the_other_replicas_sessions_alone(tmp_path):
    with replicas_behind_nginx(tmp_path) as (a, b, proxy), contextlib.ExitStack() as sessions:
        cookies = first_visits(proxy, {a.port, b.port})
        on_a = sessions.enter_context(open_session(proxy, cookies[a.port]))
        on_b = sessions.enter_context(open_session(proxy, cookies[b.port]))
        wait_sessions(a, 1)
        wait_sessions(b, 1)

        stop(a.process)

        with pytest.raises(websockets.exceptions.ConnectionClosed):
            on_a.recv(timeout=10)  # the dead replica's session is gone; its browser would reconnect
        assert on_b.ping().wait(5), "the live replica's session still answers, through nginx"
        assert active_sessions(b) == 1
        for _ in range(5):
            response, served_by = visit(proxy, HEALTH, cookies[b.port])
            assert (response.status, served_by) == (200, b.port)
        response, served_by = visit(proxy, "/", cookies[a.port])
        assert (response.status, served_by) == (200, b.port), "the dead replica's visitors move over"
        for _ in range(5):
            response, served_by = visit(proxy, "/")
            assert (response.status, served_by) == (200, b.port), "new visitors go to the live replica"
        with open_session(proxy, cookies[a.port]) as moved:
            assert moved.subprotocol == "streamlit"
            wait_sessions(b, 2)


@needs_nginx
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(chromium_path() is None, reason="needs Debian's chromium")
def test_the_app_works_in_a_browser_under_the_proxys_csp(tmp_path):
    """The real page through nginx in Chromium: it draws its charts with no CSP violation."""
    from playwright.sync_api import sync_playwright

    with replicas_behind_nginx(tmp_path) as (_, _, proxy), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            problems = []
            page.on("console", lambda m: m.type == "error" and problems.append(m.text))
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.add_init_script(
                "document.addEventListener('securitypolicyviolation', e => console.error("
                "'CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile))"
            )
            page.goto(proxy.url)
            # (not wait_for_function: it evaluates a string, which this CSP rightly refuses)
            page.locator(".js-plotly-plot .main-svg").nth(2).wait_for(timeout=120_000)
            page.wait_for_timeout(1000)  # late violations, if any
            assert page.locator("[data-testid=stException]").count() == 0
        finally:
            browser.close()
    assert problems == []


# -- compose ---------------------------------------------------------------------------------------


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR:?error}."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("braced") or match.group("plain")
        op, arg = match.group("op"), match.group("arg")
        if op == ":-":
            return env.get(name) or arg
        if op == ":?" and not env.get(name):
            raise ValueError(f"{name}: {arg}")
        return env.get(name, "")

    pattern = r"\$\$|\$\{(?P<braced>\w+)(?:(?P<op>:[-?])(?P<arg>[^}]*))?\}|\$(?P<plain>\w+)"
    return re.sub(pattern, replace, value)


def resolve(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


@pytest.fixture
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_replicas_share_a_required_cookie_secret(compose):
    app = compose["services"]["app"]
    secret = app["environment"]["STREAMLIT_SERVER_COOKIE_SECRET"]
    assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", secret), "required, never empty or per-replica random"
    with pytest.raises(ValueError):
        resolve(compose, {})
    resolved = resolve(compose, {"STREAMLIT_COOKIE_SECRET": "s3cret"})
    app = resolved["services"]["app"]
    assert app["environment"]["STREAMLIT_SERVER_COOKIE_SECRET"] == "s3cret"
    # One service scaled to N: every replica is the same container definition, so the same secret.
    assert int(app["deploy"]["replicas"]) >= 2
    assert "container_name" not in app and "ports" not in app, "replicas are reached through the proxy only"
    assert app["build"]["context"] == ".." and (DEPLOY / app["build"]["context"] / "Dockerfile").exists()


def test_compose_proxy_renders_this_template_with_only_its_placeholders(compose):
    resolved = resolve(compose, {"STREAMLIT_COOKIE_SECRET": "s3cret"})
    proxy = resolved["services"]["proxy"]
    env = proxy["environment"]
    names = re.fullmatch(r"\^\((.+)\)\$", env["NGINX_ENVSUBST_FILTER"]).group(1).split("|")
    assert set(names) == PLACEHOLDERS and all(name in env for name in names)
    mount = next(v for v in proxy["volumes"] if v.startswith("./nginx/"))
    source, target, _ = mount.split(":")
    assert (DEPLOY / source).resolve() == TEMPLATE
    assert target.startswith("/etc/nginx/templates/") and target.endswith(".conf.template")
    assert env["APP_UPSTREAMS"] == f"server app:{compose['services']['app']['expose'][0]};"
    # one list of host names for nginx and for every replica's websocket check
    app_env = resolved["services"]["app"]["environment"]
    assert env["RNN_ALLOWED_HOSTS"] == app_env["STREAMLIT_SERVER_ALLOWED_HOSTS"] == "localhost 127.0.0.1"
    named = resolve(compose, {"STREAMLIT_COOKIE_SECRET": "s", "RNN_ALLOWED_HOSTS": "rnn.example.org"})
    assert named["services"]["proxy"]["environment"]["RNN_ALLOWED_HOSTS"] == "rnn.example.org"
    assert named["services"]["app"]["environment"]["STREAMLIT_SERVER_ALLOWED_HOSTS"] == "rnn.example.org"
    assert proxy["depends_on"]["app"]["condition"] == "service_healthy"
    assert proxy["ports"] == [f"8080:{env['NGINX_LISTEN']}"]
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-alpine", proxy["image"]), "a pinned nginx image"


# -- kubernetes ------------------------------------------------------------------------------------


def manifests() -> dict[str, dict]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found = {}
    for name in kustomization["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            found[doc["kind"]] = doc
    return found


def test_manifests_are_valid_kubernetes():
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    for kind, doc in manifests().items():
        kubernetes_validate.validate(doc, version, strict=True)  # raises on any unknown or bad field
        assert kind in {"Deployment", "Service", "Ingress", "ConfigMap"}


def test_deployment_probes_resources_and_user():
    docs = manifests()
    pod = docs["Deployment"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}["http"]
    assert port == 8501
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": HEALTH, "port": "http"}, probe
    resources = container["resources"]
    assert resources["requests"]["memory"] == "1Gi" and resources["limits"]["memory"] == "2Gi"
    assert {"cpu", "memory"} <= set(resources["requests"]) and {"cpu", "memory"} <= set(resources["limits"])
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    secret = {e["name"]: e for e in container["env"]}["STREAMLIT_SERVER_COOKIE_SECRET"]
    assert "secretKeyRef" in secret["valueFrom"], "one secret for every replica"
    labels = docs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert docs["Service"]["spec"]["selector"].items() <= labels.items()
    assert docs["Service"]["spec"]["ports"][0]["targetPort"] == "http"


def test_ingress_has_cookie_affinity_and_the_proxy_headers():
    docs = manifests()
    ingress = docs["Ingress"]
    notes = ingress["metadata"]["annotations"]
    prefix = "nginx.ingress.kubernetes.io/"
    assert notes[prefix + "affinity"] == "cookie"
    assert notes[prefix + "affinity-mode"] == "persistent"
    assert notes[prefix + "session-cookie-name"]
    assert int(notes[prefix + "proxy-read-timeout"]) >= 3600, "websockets stay open for hours"
    assert ingress["spec"]["ingressClassName"] == "nginx"
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == docs["Service"]["metadata"]["name"]
    namespace = yaml.safe_load((K8S / "kustomization.yaml").read_text())["namespace"]
    headers = docs["ConfigMap"]
    assert notes[prefix + "custom-headers"] == f"{namespace}/{headers['metadata']['name']}"
    # The same security headers as the nginx config, plus HSTS since TLS ends at the Ingress.
    assert headers["data"] == {**template_headers(), "Strict-Transport-Security": "max-age=31536000"}


# -- DNS rebinding ---------------------------------------------------------------------------------


def raw_request(proxy: Proxy, host: str | None, origin: str | None = None, path: str = HEALTH) -> bytes:
    """One HTTP/1.1 request with exactly this Host (or none) and Origin; the raw answer (b"" when
    nginx closes the connection without one, its 444)."""
    lines = [f"GET {path} HTTP/1.1"]
    if host is not None:
        lines.append(f"Host: {host}")
    if origin is not None:
        lines.append(f"Origin: {origin}")
    lines += ["Connection: close", "", ""]
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode())
        chunks = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    return b"".join(chunks)


@needs_nginx
@pytest.mark.slow
def test_a_foreign_host_is_refused_by_nginx(cluster):
    """DNS rebinding: evil.example re-pointed here sends its own name as Host and Origin."""
    a, b, proxy = cluster
    connects = [metric(s, 'session_events_total{type="connect"}') for s in (a, b)]
    evil = f"evil.example:{proxy.port}"
    assert raw_request(proxy, evil, origin=f"http://{evil}") == b""
    assert raw_request(proxy, evil, origin=f"http://{evil}", path="/") == b""
    assert raw_request(proxy, None) == b"" or raw_request(proxy, None).startswith(b"HTTP/1.1 400")
    with pytest.raises((websockets.exceptions.InvalidHandshake, ConnectionError, EOFError, OSError)):
        open_session(proxy, "any", host="evil.example").close()
    for allowed in (f"127.0.0.1:{proxy.port}", f"demo.test:{proxy.port}", f"localhost:{proxy.port}"):
        assert raw_request(proxy, allowed).startswith(b"HTTP/1.1 200"), allowed
    assert logged(proxy, '"-" 444', 3) >= 3, "refused by nginx, never proxied"
    assert [metric(s, 'session_events_total{type="connect"}') for s in (a, b)] == connects


@needs_nginx
@pytest.mark.slow
def test_the_replicas_refuse_a_foreign_host_themselves(cluster):
    """Behind a proxy that passes any Host, each replica's own allow-list (server.allowedHosts)."""
    a, _, _ = cluster
    url = f"ws://evil.example:{a.port}/_stcore/stream"
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        connect(
            url,
            sock=socket.create_connection(("127.0.0.1", a.port), timeout=10),
            origin=f"http://evil.example:{a.port}",
            subprotocols=["streamlit"],
            open_timeout=10,
        )
    assert refused.value.response.status_code == 403
