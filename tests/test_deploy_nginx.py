"""The reverse-proxy example (deploy/nginx.conf) run by a real nginx in front of ``serve``'s
configuration, on loopback: a legitimate user is served through it, a client trickling its
request head is cut off by nginx, and the app's rate limit counts the real client named
in X-Forwarded-For, not the proxy (issue 18, item 2)."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dnssec_doctor.web.serve import ServerLimits
from web_support import guarded_server

EXAMPLE = Path(__file__).parents[1] / "deploy" / "nginx.conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[str]:
    """nginx with the example configuration in front of the app; yields nginx's URL."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.fail("no nginx: run scripts/bootstrap (Debian nginx-light)")
    limits = ServerLimits(proxies=("127.0.0.1",))
    with guarded_server(tmp_path, limits, rate_per_minute=1.0) as (_, app_port):
        port = free_port()
        example = EXAMPLE.read_text()
        # Only the addresses change: the example listens on 80 and proxies to 8053.
        example = example.replace("listen 80;", f"listen 127.0.0.1:{port};")
        example = example.replace("server 127.0.0.1:8053;", f"server 127.0.0.1:{app_port};")
        assert str(port) in example and str(app_port) in example
        (tmp_path / "site.conf").write_text(example)
        (tmp_path / "nginx.conf").write_text(
            f"daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
            "events {}\n"
            f"http {{ access_log off; client_body_temp_path {tmp_path}; "
            f"proxy_temp_path {tmp_path}; fastcgi_temp_path {tmp_path}; "
            f"uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};\n"
            f"include {tmp_path}/site.conf; }}\n"
        )
        process = subprocess.Popen(
            [nginx, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert process.poll() is None, process.stderr.read() if process.stderr else ""
                    assert time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(10)


def get_from(source: str, url: str) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.get(url)


def test_nginx_serves_users_and_cuts_off_a_slow_head(proxied: str) -> None:
    port = int(proxied.rsplit(":", 1)[1])
    slow = socket.socket()
    slow.bind(("127.0.0.2", 0))
    slow.connect(("127.0.0.1", port))
    slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    start = time.monotonic()
    assert get_from("127.0.0.1", proxied + "/").status_code == 200
    slow.settimeout(1)
    answer = b""
    while time.monotonic() - start < 15:
        try:
            slow.sendall(b"X-Slow: 1\r\n")
            chunk = slow.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        answer += chunk
    took = time.monotonic() - start
    assert 9 < took < 13, took  # client_header_timeout 10s: the whole head, not per line
    assert answer == b"" or b" 408 " in answer
    slow.close()


def test_the_rate_limit_counts_the_client_behind_the_proxy(proxied: str) -> None:
    # --rate 1 per minute with bursts of 5: the sixth check from one client is 429,
    # while another client behind the same proxy is still served.
    codes = [
        get_from("127.0.0.2", f"{proxied}/api/check?name=www.secure-nsec.lab").status_code
        for _ in range(6)
    ]
    assert codes == [200] * 5 + [429]
    other = get_from("127.0.0.3", f"{proxied}/api/check?name=www.secure-nsec.lab")
    assert other.status_code == 200
    assert re.fullmatch(r"[\w-]+", other.headers["X-Result-Id"])
