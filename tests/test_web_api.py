"""The HTTP API and pages, offline: checks replay stored lab snapshots. Every status code
the app answers, the JSON contract, shareable results, and the safety limits."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dnssec_doctor.diagnosis.report import build_report
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.probe.settings import AddressPolicy
from dnssec_doctor.render.json import render_json
from dnssec_doctor.web.limits import CheckSlots, RateLimiter
from dnssec_doctor.web.serve import serve_parser, serve_settings
from web_support import replay_app


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    app, _ = replay_app("ds-bad-digest", tmp_path / "results.sqlite3", rate_burst=50)
    return TestClient(app)


NAME = "www.ds-bad-digest.lab."


def test_api_check_is_the_json_of_check(client: TestClient, tmp_path: Path) -> None:
    response = client.get("/api/check", params={"name": NAME, "type": "A"})
    assert response.status_code == 200
    data = response.json()
    assert data["verdict"] == "bogus" and data["ede"] == 9
    assert data["causes"][0]["code"] == "DS_DIGEST_MISMATCH"
    # Exactly render_json (what check --json prints) of the stored snapshot.
    result_id = response.headers["X-Result-Id"]
    stored = client.app.state.checks.store.load(result_id)  # type: ignore[attr-defined]
    report = build_report(stored.snapshot, AnalysisOptions(now=stored.judged_at))
    assert data == json.loads(json.dumps(render_json(report)))
    assert f"/results/{result_id}" in response.headers["Link"]


def test_check_page_renders_verdict_fix_and_graph(client: TestClient) -> None:
    response = client.get("/check", params={"name": "www.ds-bad-digest.lab", "type": "A"})
    assert response.status_code == 200
    page = response.text
    assert "BOGUS" in page and "DS_DIGEST_MISMATCH" in page
    assert "What to do" in page and "The fix, ETA 7 min" in page and "Replace the DS" in page
    assert "<svg" in page and 'class="edge broken"' in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_check_page_says_what_public_resolvers_document_not_measured(
    client: TestClient,
) -> None:
    page = client.get("/check", params={"name": "www.ds-bad-digest.lab", "type": "A"}).text
    section = page[page.index('id="public-resolvers"') :]
    section = section[: section.index("</section>")]
    assert "not measured" in section
    assert "Cloudflare" in section and "EDE 9 (DNSKEY Missing)" in section
    assert (
        'href="https://developers.cloudflare.com/1.1.1.1/infrastructure/extended-dns-error-codes/"'
        in section
    )
    assert "(read 2026-12-04)" in section
    assert "Google Public DNS" in section and "not documented" in section


def test_result_is_shareable_and_unchanged(client: TestClient) -> None:
    first = client.get("/api/check", params={"name": NAME})
    result_id = first.headers["X-Result-Id"]
    later = client.get(f"/api/results/{result_id}")
    assert later.status_code == 200 and later.json() == first.json()
    page = client.get(f"/results/{result_id}")
    assert page.status_code == 200 and f"/results/{result_id}" in page.text
    svg = client.get(f"/results/{result_id}/chain.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    snapshot = client.get(f"/results/{result_id}/snapshot.json")
    assert snapshot.status_code == 200 and snapshot.json()["name"] == NAME


def test_results_survive_a_restart(tmp_path: Path) -> None:
    database = tmp_path / "results.sqlite3"
    app, _ = replay_app("ds-bad-digest", database)
    result_id = TestClient(app).get("/api/check", params={"name": NAME}).headers["X-Result-Id"]
    restarted, _ = replay_app("ds-bad-digest", database)
    assert TestClient(restarted).get(f"/api/results/{result_id}").json()["verdict"] == "bogus"


def test_stream_reports_progress_then_the_result(client: TestClient) -> None:
    response = client.get("/api/check/stream", params={"name": NAME})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [block for block in response.text.split("\n\n") if block]
    kinds = [block.split("\n")[0].removeprefix("event: ") for block in events]
    assert kinds[0] == "start" and kinds[-1] == "result"
    progress = [json.loads(b.split("data: ", 1)[1]) for b in events if "progress" in b[:16]]
    assert {"zone", "server", "resolver"} <= {p["kind"] for p in progress}
    assert any(p["subject"] == "ds-bad-digest.lab." for p in progress)
    url = json.loads(events[-1].split("data: ", 1)[1])["url"]
    assert client.get(url).status_code == 200


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "no name given"),
        ({"name": ""}, "no name given"),
        ({"name": "a..b"}, "label is empty"),
        ({"name": "x" * 64 + ".example"}, "longer than 63 octets"),
        ({"name": "x" * 301}, "at most 255 octets"),
        ({"name": NAME, "type": "BOGUSTYPE"}, "unknown record type"),
        ({"name": NAME, "type": "AXFR"}, "not a type"),
        ({"name": NAME, "type": "A" * 17}, "too long"),
    ],
)
def test_bad_input_is_400_with_a_clear_message(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    for path in ("/api/check", "/api/check/stream"):
        response = client.get(path, params=params)
        assert response.status_code == 400
        assert message in response.json()["error"]
    page = client.get("/check", params=params)
    assert page.status_code == 400 and message in page.text
    assert 'role="alert"' in page.text


def test_unknown_result_and_path_are_404(client: TestClient) -> None:
    assert client.get("/api/results/doesnotexist").status_code == 404
    assert client.get("/results/doesnotexist").status_code == 404
    assert client.get("/results/../etc/passwd").status_code == 404
    assert client.get("/results/a%27%3B--/chain.svg").status_code == 404
    response = client.get("/api/nothing")
    assert response.status_code == 404 and response.json()["error"] == "no such page"


def test_other_methods_are_405(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE"):
        response = client.request(method, "/api/check", params={"name": NAME})
        assert response.status_code == 405
        assert "use GET" in response.json()["error"]


def test_rate_limit_is_429_with_retry_after(tmp_path: Path) -> None:
    app, _ = replay_app("ds-bad-digest", tmp_path / "r.sqlite3", rate_burst=2, rate_per_minute=1)
    client = TestClient(app)
    assert [client.get("/api/check", params={"name": NAME}).status_code for _ in range(2)] == [
        200,
        200,
    ]
    refused = client.get("/api/check", params={"name": NAME})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "too many checks" in refused.json()["error"]
    assert client.get("/check", params={"name": NAME}).status_code == 429
    # Stored results stay readable: only checks are limited.
    assert client.get("/").status_code == 200


def test_concurrency_cap_is_503(tmp_path: Path) -> None:
    app, _ = replay_app("ds-bad-digest", tmp_path / "r.sqlite3", max_concurrent=1)
    client = TestClient(app)
    app.state.checks.slots.active = 1  # one check running
    refused = client.get("/api/check", params={"name": NAME})
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    app.state.checks.slots.active = 0
    assert client.get("/api/check", params={"name": NAME}).status_code == 200
    assert app.state.checks.slots.active == 0  # released after the check


def test_openapi_and_docs_are_served(client: TestClient, tmp_path: Path) -> None:
    spec = client.get("/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert {"/api/check", "/api/check/stream", "/api/results/{result_id}", "/check"} <= set(paths)
    # The interactive viewers load scripts from a CDN: only when the operator asks.
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    app, _ = replay_app("ds-bad-digest", tmp_path / "d.sqlite3", api_docs=True)
    assert TestClient(app).get("/docs").status_code == 200
    assert client.get("/").status_code == 200


def test_rate_limiter_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(per_minute=60, burst=1, clock=lambda: now[0])
    assert limiter.take("a") == 0
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0  # per client
    now[0] = 1.0
    assert limiter.take("a") == 0


def test_check_slots() -> None:
    slots = CheckSlots(1)
    assert slots.acquire() and not slots.acquire()
    slots.release()
    assert slots.acquire()


def _serve_args(*argv: str) -> argparse.Namespace:
    return serve_parser().parse_args(list(argv))


def test_serve_is_public_only_by_default() -> None:
    settings = serve_settings(_serve_args())
    assert settings.address_policy is AddressPolicy.PUBLIC_ONLY
    assert settings.resolvers == ("1.1.1.1", "8.8.8.8", "9.9.9.9")
    assert settings.max_queries == 300 and settings.deadline == 15
    assert not settings.address_policy.allows("10.0.0.1")
    assert not settings.address_policy.allows("127.0.0.1")
    assert not settings.address_policy.allows("169.254.1.1")
    assert not settings.address_policy.allows("ff02::1")


def test_serve_refuses_a_private_resolver_without_lab() -> None:
    with pytest.raises(UsageError, match="public-only"):
        serve_settings(_serve_args("--resolver", "192.168.1.1"))
    with pytest.raises(UsageError, match="public-only"):
        serve_settings(_serve_args("--address-policy", "public", "--resolver", "10.0.0.53"))


def test_serve_for_an_internal_hierarchy_may_ask_any_address(tmp_path: Path) -> None:
    hints = tmp_path / "internal.root"
    hints.write_text(". 3600 IN NS ns.corp.\nns.corp. 3600 IN A 10.0.0.53\n")
    anchor = tmp_path / "corp.ds"
    anchor.write_text("corp. 3600 IN DS 1 13 2 " + "ab" * 32 + "\n")
    settings = serve_settings(
        _serve_args(
            "--address-policy",
            "any",
            "--resolver",
            "10.0.0.1",
            "--root-hints",
            str(hints),
            "--trust-anchor",
            str(anchor),
        )
    )
    assert settings.address_policy is AddressPolicy.ANY
    assert settings.resolvers == ("10.0.0.1",)
    assert [s.address for s in settings.root_hints] == ["10.0.0.53"]
    assert settings.trust_anchors[0].startswith("corp. 3600 IN DS")
    assert settings.address_policy.allows("192.168.1.1")
    assert not settings.address_policy.allows("224.0.0.1")  # never multicast
    with pytest.raises(UsageError, match="--lab"):
        serve_settings(_serve_args("--lab", "--address-policy", "any"))


def test_every_response_has_the_security_headers(tmp_path: Path) -> None:
    app, _ = replay_app("ds-bad-digest", tmp_path / "r.sqlite3")

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    client = TestClient(app, raise_server_exceptions=False)
    for path, status in (("/boom", 500), ("/nowhere", 404), ("/", 200)):
        response = client.get(path)
        assert response.status_code == status
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert "a bug" not in response.text
