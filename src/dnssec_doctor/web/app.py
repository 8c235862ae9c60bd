"""The web application: the check as a page and as an HTTP API.

    GET /                          the form
    GET /check?name=&type=         run a check, render its result page (works without JS)
    GET /results/{id}              a stored result, the same page later (shareable)
    GET /results/{id}/chain.svg    its chain of trust as a picture
    GET /results/{id}/snapshot.json  its raw evidence (the probe's snapshot)
    GET /api/check?name=&type=     run a check: exactly the JSON of ``check --json``
    GET /api/check/stream?name=&type=  the same check as server-sent events: progress, then
                                   the result's URL (what the page's script follows)
    GET /api/results/{id}          a stored result's JSON
    GET /openapi.json              the API's description (/docs and /redoc with --api-docs)

Safety for a public deployment: the names and types are parsed as the CLI parses them
(400 with the reason otherwise); the probe's settings are fixed by whoever runs the
server (resolvers, root, trust anchor, address policy, query budget, deadline): a request
chooses only the name and the type, and gets a diagnosis, never a resolver's answer. Each
client gets a token bucket of checks (429), and at most ``max_concurrent`` checks run at
once (503). Every string from DNS reaches the page through autoescaped templates or the
escaping SVG renderer, and the pages forbid inline scripts (Content-Security-Policy).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
    StreamingResponse,
)
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from dnssec_doctor import __version__
from dnssec_doctor.diagnosis.report import Report
from dnssec_doctor.errors import UsageError
from dnssec_doctor.pipeline import analysis_options, analyze, lab_catalogue, parse_name, parse_type
from dnssec_doctor.probe.collect import NetworkTransport, ProbeSettings, Transport, collect_snapshot
from dnssec_doctor.render.json import render_json
from dnssec_doctor.render.svg import render_svg
from dnssec_doctor.web.limits import CheckSlots, RateLimiter, client_key
from dnssec_doctor.web.store import (
    KEEP_SECONDS,
    MAX_SNAPSHOT,
    MAX_TOTAL,
    ResultStore,
    StoredResult,
    evidence_bytes,
)
from dnssec_doctor.web.view import age_text, page_context

log = logging.getLogger("dnssec_doctor.web")
HERE = Path(__file__).parent
HANG_UP_POLL = 0.25  # seconds between checks that a waiting client is still there
MAX_PARAMETER = 300  # characters: a name is at most 255 octets, its text a little more
TYPES = ("A", "AAAA", "MX", "TXT", "NS", "SOA", "CAA", "CNAME", "SRV", "HTTPS", "TLSA", "DS")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class WebConfig:
    """What the operator of the server decides; requests choose only name and type."""

    settings: ProbeSettings
    database: Path
    lab: bool = False
    max_concurrent: int = 4
    rate_per_minute: float = 10.0
    rate_burst: int = 5
    public_url: str | None = None  # the permalink's base; None: the request's own
    ipv6_prefix: int = 64  # IPv6 clients are counted per network of this length
    api_docs: bool = False  # serve /docs and /redoc (their viewers come from a CDN)
    requests_per_minute: float = 240.0  # any request, per client: pages, results, assets
    requests_burst: int = 60
    rebuilds_at_once: int = 2  # stored results judged again at once (then 503)
    cache_bytes: int = 64 << 20  # rebuilt reports kept, by the size of their evidence
    store_max_snapshot: int = MAX_SNAPSHOT
    store_keep_seconds: float = KEEP_SECONDS
    store_max_total: int = MAX_TOTAL
    transport: Callable[[], Transport] = field(default=NetworkTransport)


class WebError(Exception):
    """A request that cannot be served: a status, a message and a hint for the user."""

    def __init__(
        self, status: int, message: str, hint: str = "", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.headers = headers or {}


@dataclass(frozen=True)
class Question:
    name: str
    rdtype: str


def read_question(name: str | None, rdtype: str | None) -> Question:
    """The name and type of a request, parsed as ``check`` parses them; 400 otherwise."""
    if name is None or not name.strip():
        raise WebError(400, "no name given", "give a domain name, e.g. ?name=example.com")
    rdtype = rdtype or "A"
    if len(name) > MAX_PARAMETER:
        raise WebError(
            400,
            f"the name is {len(name)} characters long: a domain name has at most 255 octets",
        )
    if len(rdtype) > 16:
        raise WebError(400, "the type is too long", "for example A, AAAA, MX, TXT")
    try:
        return Question(parse_name(name.strip()), parse_type(rdtype.strip()))
    except UsageError as error:
        raise WebError(400, error.message, error.hint or "") from None


class Checks:
    """Runs checks under the limits and keeps their results."""

    def __init__(self, config: WebConfig) -> None:
        self.config = config
        self.store = ResultStore(
            config.database,
            max_snapshot=config.store_max_snapshot,
            keep_seconds=config.store_keep_seconds,
            max_total=config.store_max_total,
        )
        self.rate = RateLimiter(config.rate_per_minute, config.rate_burst)
        self.requests = RateLimiter(config.requests_per_minute, config.requests_burst)
        # A fair share: one client holds at most a quarter of the slots (at least one).
        self.slots = CheckSlots(config.max_concurrent, max(1, config.max_concurrent // 4))
        self.rebuilds = CheckSlots(config.rebuilds_at_once)
        # Rebuilt reports, newest last, bounded by count and by the size of the evidence.
        self.reports: dict[str, tuple[Report, int]] = {}
        self.cached_bytes = 0

    def admit(self, client: str) -> None:
        """Count the check against the client's rate and take a slot: 429 or 503."""
        wait = self.rate.take(client)
        if wait > 0:
            seconds = max(1, int(wait + 0.999))
            raise WebError(
                429,
                "too many checks from your address",
                f"try again in {seconds} s",
                {"Retry-After": str(seconds)},
            )
        if self.slots.held_by(client) >= (self.slots.per_client or self.slots.limit):
            raise WebError(
                429,
                "your address already has as many checks running as it may",
                "wait for them to finish",
                {"Retry-After": "5"},
            )
        if not self.slots.acquire(client):
            raise WebError(
                503,
                "the server is running as many checks as it allows at once",
                "try again in a few seconds",
                {"Retry-After": "5"},
            )

    async def run(
        self, question: Question, progress: Callable[[str, str], None] | None = None
    ) -> tuple[StoredResult, Report]:
        """Probe, diagnose, store. The caller has been admitted and releases the slot."""
        snapshot = await collect_snapshot(
            question.name,
            question.rdtype,
            self.config.settings,
            self.config.transport(),
            progress=progress,
        )
        judged_at = snapshot.finished_at
        # Judged on what is stored, so the page now and its link later agree.
        snapshot, packed = await asyncio.to_thread(self.store.prepare, snapshot)
        report = await asyncio.to_thread(
            analyze, snapshot, analysis_options(snapshot, at=judged_at)
        )
        stored = await asyncio.to_thread(
            self.store.save, snapshot, judged_at, report.diagnosis.verdict.value, packed
        )
        self._remember(stored.id, report)
        return stored, report

    async def result(self, result_id: str) -> tuple[StoredResult, Report]:
        if (
            not (0 < len(result_id) <= 64)
            or not result_id.replace("-", "").replace("_", "").isalnum()
        ):
            raise WebError(404, "no such result", "results are kept under the link a check gave")
        stored = await asyncio.to_thread(self.store.load, result_id)
        if stored is None:
            raise WebError(404, "no such result", "results are kept under the link a check gave")
        cached = self.reports.get(result_id)
        if cached is not None:
            return stored, cached[0]
        if not self.rebuilds.acquire():
            raise WebError(
                503,
                "the server is busy judging other results",
                "try again in a few seconds",
                {"Retry-After": "5"},
            )
        try:
            report = await asyncio.to_thread(
                analyze, stored.snapshot, analysis_options(stored.snapshot, at=stored.judged_at)
            )
        finally:
            self.rebuilds.release()
        self._remember(result_id, report)
        return stored, report

    def _remember(self, result_id: str, report: Report) -> None:
        size = evidence_bytes(report.snapshot)
        if size > self.config.cache_bytes:
            return
        while self.reports and (
            len(self.reports) >= 64 or self.cached_bytes + size > self.config.cache_bytes
        ):
            _, (_, dropped) = self._pop_oldest()
            self.cached_bytes -= dropped
        self.reports[result_id] = (report, size)
        self.cached_bytes += size

    def _pop_oldest(self) -> tuple[str, tuple[Report, int]]:
        oldest = next(iter(self.reports))
        return oldest, self.reports.pop(oldest)


class _SecurityHeaders(BaseHTTPMiddleware):
    """The security headers on every response, an internal error's 500 included."""

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            response = await call_next(request)
        except Exception:  # a bug: logged, answered with a 500 that keeps the headers
            log.exception("internal error on %s", request.url.path)
            response = PlainTextResponse("internal error", status_code=500)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        # The interactive API docs (off unless asked for) load their viewer from a CDN.
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers.setdefault("Content-Security-Policy", CSP)
            response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _client(request: Request) -> str:
    """The rate limit's key: the IPv4 address, or the client's IPv6 network (/64 unless
    the operator chose another prefix length)."""
    if request.client is None:
        return "unknown"
    config: WebConfig = request.app.state.checks.config
    return client_key(request.client.host, config.ipv6_prefix)


def create_app(config: WebConfig) -> FastAPI:
    app = FastAPI(
        title="dnssec-doctor",
        version=__version__,
        description="Find the broken link in a DNSSEC chain of trust, say who must fix what, "
        "in which order, and when resolvers recover. `GET /api/check` returns exactly the "
        "JSON of `dnssec-doctor check --json`.",
        # The interactive viewers load scripts from a CDN: off unless the operator asks.
        docs_url="/docs" if config.api_docs else None,
        redoc_url="/redoc" if config.api_docs else None,
    )
    checks = Checks(config)
    app.state.checks = checks
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )

    @app.middleware("http")
    async def _request_rate(request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Every route counts against the client's request rate (checks have their own,
        stricter one on top)."""
        wait = checks.requests.take(_client(request))
        if wait > 0:
            seconds = max(1, int(wait + 0.999))
            return error_response(
                request,
                WebError(
                    429,
                    "too many requests from your address",
                    f"try again in {seconds} s",
                    {"Retry-After": str(seconds)},
                ),
            )
        return await call_next(request)

    app.add_middleware(_SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    examples = [
        (s.query_name, s.qtype, s.broken, s.diagnosis.verdict.value) for s in lab_catalogue()
    ]

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("lab", config.lab)
        context.setdefault("types", TYPES)
        context.setdefault("name", "")
        context.setdefault("rdtype", "A")
        body = templates.get_template(template).render(**context)
        return HTMLResponse(body, status_code=status)

    def error_response(request: Request, error: WebError) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": error.message, "hint": error.hint, "status": error.status},
                status_code=error.status,
                headers=error.headers,
            )
        response = page(
            "error.html",
            error.status,
            error=error,
            name=request.query_params.get("name", "")[:MAX_PARAMETER],
            rdtype=request.query_params.get("type", "A")[:16],
        )
        response.headers.update(error.headers)
        return response

    @app.exception_handler(WebError)
    async def _web_error(request: Request, error: WebError) -> Response:
        return error_response(request, error)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = {404: "no such page", 405: "method not allowed: use GET"}.get(
            error.status_code, str(error.detail)
        )
        hint = "the API is described at /openapi.json" if error.status_code in (404, 405) else ""
        return error_response(request, WebError(error.status_code, message, hint))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        return error_response(request, WebError(400, "invalid request parameters"))

    name_query = Query(None, description="the domain name to diagnose", examples=["example.com"])
    type_query = Query("A", alias="type", description="the record type (default A)")

    async def run_admitted(
        request: Request, name: str | None, rdtype: str | None
    ) -> tuple[StoredResult, Report]:
        """One check, within the client's rate, its share of the slots and the global cap
        on concurrent checks; cancelled when the client hangs up (nobody would get the
        link to the stored result)."""
        question = read_question(name, rdtype)
        client = _client(request)
        checks.admit(client)
        task = asyncio.ensure_future(checks.run(question))
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=HANG_UP_POLL)
                if not task.done() and await request.is_disconnected():
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                    raise WebError(499, "the client closed the connection")
            return task.result()
        finally:
            if not task.done():
                task.cancel()
            checks.slots.release(client)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index() -> HTMLResponse:
        return page("index.html", examples=examples if config.lab else [])

    @app.get("/check", response_class=HTMLResponse, summary="Run a check: the result page")
    async def check_page(
        request: Request, name: str | None = name_query, rdtype: str | None = type_query
    ) -> HTMLResponse:
        stored, report = await run_admitted(request, name, rdtype)
        return result_page(request, stored, report, fresh=True)

    @app.get("/results/{result_id}", response_class=HTMLResponse, summary="A stored result")
    async def result_view(request: Request, result_id: str) -> HTMLResponse:
        stored, report = await checks.result(result_id)
        return result_page(request, stored, report, fresh=False)

    @app.get(
        "/results/{result_id}/chain.svg",
        summary="The chain of trust of a stored result as SVG",
        response_class=Response,
        responses={200: {"content": {"image/svg+xml": {}}}},
    )
    async def result_svg(result_id: str) -> Response:
        _, report = await checks.result(result_id)
        return Response(render_svg(report), media_type="image/svg+xml")

    @app.get("/results/{result_id}/snapshot.json", summary="The raw evidence of a stored result")
    async def result_snapshot(result_id: str) -> Response:
        stored, _ = await checks.result(result_id)
        return Response(stored.snapshot.dumps(), media_type="application/json")

    @app.get(
        "/api/check",
        summary="Run a check: the JSON of `check --json`",
        responses={
            400: {"description": "invalid name or type"},
            429: {"description": "too many checks from this client"},
            503: {"description": "too many checks running"},
        },
    )
    async def check_api(
        request: Request, name: str | None = name_query, rdtype: str | None = type_query
    ) -> JSONResponse:
        stored, report = await run_admitted(request, name, rdtype)
        return JSONResponse(
            render_json(report),
            headers={
                "Link": f'</results/{stored.id}>; rel="alternate"; type="text/html"',
                "X-Result-Id": stored.id,
            },
        )

    @app.get(
        "/api/check/stream",
        summary="Run a check as server-sent events: progress, then the result's URL",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
    )
    async def check_stream(
        request: Request, name: str | None = name_query, rdtype: str | None = type_query
    ) -> StreamingResponse:
        question = read_question(name, rdtype)
        client = _client(request)
        checks.admit(client)
        return StreamingResponse(
            _stream(checks, question, client), media_type="text/event-stream", headers=_NO_CACHE
        )

    @app.get("/api/results/{result_id}", summary="A stored result's JSON")
    async def result_api(result_id: str) -> JSONResponse:
        stored, report = await checks.result(result_id)
        return JSONResponse(render_json(report), headers={"X-Result-Id": stored.id})

    def result_page(
        request: Request, stored: StoredResult, report: Report, *, fresh: bool
    ) -> HTMLResponse:
        base = (config.public_url or str(request.base_url)).rstrip("/")
        return page(
            "result.html",
            name=report.diagnosis.name,
            rdtype=report.diagnosis.rdtype,
            result_id=stored.id,
            permalink=f"{base}/results/{stored.id}",
            fresh=fresh,
            stored_at=age_text(stored.created_at, time.time()),
            **page_context(report),
        )

    return app


_NO_CACHE = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


def _event(kind: str, data: dict[str, Any]) -> str:
    return f"event: {kind}\ndata: {json.dumps(data)}\n\n"


async def _stream(checks: Checks, question: Question, client: str) -> AsyncIterator[str]:
    """Progress as it happens (each zone, server and resolver once), then the result."""
    queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    resolvers = set(checks.config.settings.resolvers)
    seen: set[tuple[str, str]] = set()
    sent = 0

    def progress(event: str, subject: str) -> None:
        queue.put_nowait((event, subject))

    task = asyncio.ensure_future(checks.run(question, progress))
    try:
        yield _event("start", {"name": question.name, "type": question.rdtype})
        while not task.done() or not queue.empty():
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if not getter.done():
                getter.cancel()
                continue
            event, subject = getter.result()
            if event == "sent":
                sent += 1
            if event == "done":
                continue
            kind = "zone" if event == "zone" else "resolver" if subject in resolvers else "server"
            if (kind, subject) in seen:
                continue
            seen.add((kind, subject))
            yield _event("progress", {"kind": kind, "subject": subject, "sent": sent})
        try:
            stored, report = task.result()
        except UsageError as error:
            yield _event("failure", {"status": 400, "error": error.message})
            return
        yield _event(
            "result",
            {
                "url": f"/results/{stored.id}",
                "verdict": report.diagnosis.verdict.value,
                "sent": len(report.snapshot.exchanges),
            },
        )
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        checks.slots.release(client)
