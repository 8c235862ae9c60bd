"""Bulk scanning (dnssec-doctor scan): the input, the shared cache, resuming, and scans of
the lab that must agree with check and with the bulk lab's manifest name by name."""

from __future__ import annotations

import asyncio
import collections
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import dns.flags
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
import pytest

from dnssec_doctor.analysis import resolvers
from dnssec_doctor.analysis.wire import parse_message
from dnssec_doctor.diagnosis.report import build_report
from dnssec_doctor.errors import UsageError
from dnssec_doctor.lab import bulk
from dnssec_doctor.lab.profile import LabProfile
from dnssec_doctor.lab.scenarios import SCENARIOS
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Purpose, Server, Transport
from dnssec_doctor.pipeline import lab_settings
from dnssec_doctor.probe import plan
from dnssec_doctor.probe.collect import collect
from dnssec_doctor.probe.transport import Reply, ScriptedTransport
from dnssec_doctor.scan import cache as cache_module
from dnssec_doctor.scan.cache import ENTRY_COST, CachingTransport
from dnssec_doctor.scan.engine import ScanOptions, Window, scan_questions
from dnssec_doctor.scan.names import Question, read_questions
from dnssec_doctor.scan.results import Summary, read_done, result_of

ROOT_SERVER = Server("127.0.0.1", "a.root.")


# --- the input ------------------------------------------------------------------------------


def test_names_are_read_with_types_comments_and_blank_lines() -> None:
    text = b"# names\nexample.com\n\nwww.example.org  MX\nEXAMPLE.net. aaaa\n"
    questions = list(read_questions(io.BytesIO(text), "names.txt"))
    assert [(q.name, q.rdtype, q.line) for q in questions] == [
        ("example.com.", "A", 2),
        ("www.example.org.", "MX", 4),
        ("EXAMPLE.net.", "AAAA", 5),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"exa mple.com A", "expected a name and at most a type"),
        (b"example.com NOTATYPE", "unknown record type"),
        (b"example.com AXFR", "not a type dnssec-doctor can check"),
        (b"a" * 64 + b".com", "line 3"),
        (b"\xff\xfe.com", "not UTF-8"),
        (b"x" * 2000, "longer than 1024 bytes"),
    ],
)
def test_a_malformed_line_is_named_by_its_number(line: bytes, reason: str) -> None:
    stream = io.BytesIO(b"ok.example\n# fine\n" + line + b"\nnever.example\n")
    questions = read_questions(stream, "names.txt")
    assert next(questions).name == "ok.example."
    with pytest.raises(UsageError) as raised:
        next(questions)
    assert "names.txt line 3" in str(raised.value) and reason in str(raised.value)


# --- the shared cache -------------------------------------------------------------------------


def _referral(query: dns.message.Message, child: str) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags &= ~dns.flags.AA
    response.authority.append(
        dns.rrset.from_text(child, 3600, "IN", "NS", f"ns1.{child}"),
    )
    response.additional.append(dns.rrset.from_text(f"ns1.{child}", 3600, "IN", "A", "127.0.0.2"))
    return response


def _answer(query: dns.message.Message, ttl: int = 300) -> dns.message.Message:
    response = dns.message.make_response(query)
    response.flags |= dns.flags.AA
    response.answer.append(dns.rrset.from_text(query.question[0].name, ttl, "IN", "A", "192.0.2.1"))
    return response


def _exchange(cache: CachingTransport, name: str, rdtype: str = "A") -> dns.message.Message:
    query = dns.message.make_query(name, rdtype, want_dnssec=True)
    reply = asyncio.run(cache.exchange(query, ROOT_SERVER, tcp=False, timeout=2.0))
    assert reply.response is not None, reply.error
    message = dns.message.from_wire(reply.response)
    assert message.id == query.id
    assert message.question[0].name == dns.name.from_text(name)
    return message


def test_the_same_question_is_sent_once_within_its_ttl() -> None:
    sent: list[str] = []

    def handler(query: dns.message.Message, server: Server, tcp: bool) -> Any:
        sent.append(query.question[0].name.to_text())
        return _answer(query)

    now = [0.0]
    cache = CachingTransport(ScriptedTransport(handler), clock=lambda: now[0])
    _exchange(cache, "www.example.")
    _exchange(cache, "www.example.")
    assert sent == ["www.example."]
    now[0] = 301.0  # past the answer's TTL: asked again
    _exchange(cache, "www.example.")
    assert sent == ["www.example.", "www.example."]
    assert cache.stats.sent == 2 and cache.stats.answered == 1


def test_a_referral_answers_every_name_below_the_child_but_not_its_ds() -> None:
    sent: list[tuple[str, str]] = []

    def handler(query: dns.message.Message, server: Server, tcp: bool) -> Any:
        question = query.question[0]
        sent.append((question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
        if question.rdtype == dns.rdatatype.DS:
            return _answer(query)
        return _referral(query, "example.")

    cache = CachingTransport(ScriptedTransport(handler))
    _exchange(cache, "www.example.")
    referred = _exchange(cache, "mail.deep.example.")  # not sent: the referral is reused
    assert [r.name.to_text() for r in referred.authority] == ["example."]
    assert not referred.flags & dns.flags.AA
    _exchange(cache, "example.", "DS")  # the parent's own answer: sent
    _exchange(cache, "other.", "A")  # outside the child: sent
    assert sent == [("www.example.", "A"), ("example.", "DS"), ("other.", "A")]
    assert cache.stats.referred == 1


def test_timeouts_are_not_kept_but_refusals_are() -> None:
    calls = collections.Counter[str]()

    def handler(query: dns.message.Message, server: Server, tcp: bool) -> Any:
        name = query.question[0].name.to_text()
        calls[name] += 1
        if name == "silent.":
            return None  # a timeout
        response = dns.message.make_response(query)
        response.set_rcode(dns.rcode.REFUSED)
        return response

    cache = CachingTransport(ScriptedTransport(handler))
    for _ in range(3):
        for name in ("silent.", "refused."):
            query = dns.message.make_query(name, "A")
            asyncio.run(cache.exchange(query, ROOT_SERVER, tcp=False, timeout=2.0))
    assert calls == {"silent.": 3 * 2, "refused.": 1}  # each timeout asked twice, none kept


def test_the_cache_keeps_to_its_memory_budget_dropping_the_least_recently_used() -> None:
    """Whatever the number of names, what the cache keeps is bounded by its budget in
    bytes (each entry counted as its response plus ENTRY_COST), and the answers every
    name asks again (the root's, a TLD's) stay while names' own answers come and go."""
    sent: list[str] = []

    def handler(query: dns.message.Message, server: Server, tcp: bool) -> Any:
        sent.append(query.question[0].name.to_text())
        return _answer(query)

    query = dns.message.make_query("n0000.example.", "A", want_dnssec=True)
    one = len(_answer(query).to_wire()) + ENTRY_COST  # what each name's answer costs
    budget = 10 * one + 64  # "shared.example." answers with a few bytes more
    cache = CachingTransport(ScriptedTransport(handler), max_bytes=budget)
    for i in range(200):
        _exchange(cache, "shared.example.")  # asked by every name: sent once
        _exchange(cache, f"n{i:04d}.example.")  # each name's own
        assert cache.kept_bytes <= budget
    assert sent.count("shared.example.") == 1
    assert len(cache.answers) == 10
    # The accounting follows what is kept: the sum of the entries' costs.
    assert cache.kept_bytes == sum(
        ENTRY_COST + len(kept.reply.response or b"") for kept in cache.answers.values()
    )
    _exchange(cache, "n0000.example.")  # dropped long ago: asked again
    assert sent.count("n0000.example.") == 2


def test_an_answer_of_64_kilobytes_cannot_fill_memory() -> None:
    """A count of entries alone is no bound: 200,000 answers of 64 KB would be 13 GB."""

    def handler(query: dns.message.Message, server: Server, tcp: bool) -> Any:
        response = _answer(query)
        response.answer.append(
            dns.rrset.from_text(
                query.question[0].name,
                300,
                "IN",
                "TXT",
                *(f'"{n:03d}{"x" * 247}"' for n in range(200)),
            )
        )
        return response.to_wire(max_size=65535)  # bytes: as a server writes them over TCP

    budget = 1024 * 1024
    cache = CachingTransport(ScriptedTransport(handler), max_bytes=budget)
    for i in range(100):  # over TCP, as an answer this large comes
        query = dns.message.make_query(f"big{i}.example.", "TXT", want_dnssec=True)
        reply = asyncio.run(cache.exchange(query, ROOT_SERVER, tcp=True, timeout=2.0))
        assert reply.response is not None and len(reply.response) > 50_000, reply.error
    assert cache.kept_bytes <= budget
    assert 1 < len(cache.answers) < 100


def test_queries_are_the_same_question_exactly_when_their_bytes_are() -> None:
    """The cache tells queries apart by their fields, without writing them out: two queries
    are one question exactly when their bytes after the ID are the same."""
    example = dns.name.from_text("www.Example.")
    questions = [
        plan.Question(purpose, name, dns.rdatatype.RdataType.make(rdtype), rd, do, cd)
        for purpose in (Purpose.ANSWER, Purpose.OPTION_PROBE, Purpose.EDNS_PROBE)
        for name in (example, dns.name.from_text("www.example."), dns.name.from_text("example."))
        for rdtype in ("A", "DS")
        for rd, do, cd in ((False, True, False), (True, True, True), (False, False, False))
    ]
    queries = [plan.make_query(q) for q in questions for _ in range(2)]  # two IDs each
    queries.append(dns.message.make_query("www.example.", "A", use_edns=False))
    keys = [cache_module._query_keys(q) for q in queries]
    wires = [q.to_wire()[2:] for q in queries]
    for one_key, one_wire in zip(keys, wires, strict=True):
        for other_key, other_wire in zip(keys, wires, strict=True):
            assert (one_key == other_key) == (one_wire == other_wire)
    assert len(set(keys)) == len(set(wires)) == len(queries) // 2 + 1
    # A query that is more than a question is told apart by its bytes.
    update = dns.message.make_query("www.example.", "A")
    update.additional.append(dns.rrset.from_text("www.example.", 60, "IN", "A", "192.0.2.1"))
    assert cache_module._query_keys(update)[1] != keys[0][1]


def test_a_rewritten_referral_is_the_referral_parsed_anew_and_leaves_the_kept_one_alone() -> None:
    first = dns.message.make_query("www.example.", "A", want_dnssec=True)
    referral = _referral(first, "example.").to_wire()
    kept = parse_message(referral).message  # parsed by the walk that followed it
    assert kept is not None
    later = dns.message.make_query("mail.deep.example.", "AAAA", want_dnssec=True)
    reply = Reply(referral, None, 0.01, Transport.UDP)
    rewritten = cache_module._rewritten(reply, later)
    assert rewritten is not None and rewritten.response is not None
    anew = dns.message.from_wire(referral)
    anew.id = later.id
    anew.question = list(later.question)
    assert rewritten.response == anew.to_wire()
    assert kept.question == first.question and kept.id == first.id
    assert parse_message(referral).message.question == first.question  # type: ignore[union-attr]


# --- results and resuming ---------------------------------------------------------------------


def test_resume_reads_what_was_written_and_drops_a_cut_line(tmp_path: Path) -> None:
    output = tmp_path / "out.jsonl"
    lines = [
        {"name": "a.example.", "type": "A", "verdict": "secure", "ede": None, "zone": None},
        {
            "name": "b.example.",
            "type": "A",
            "verdict": "bogus",
            "ede": 7,
            "zone": "b.example.",
            "causes": [{"code": "RRSIG_EXPIRED", "summary": "..."}],
        },
    ]
    whole = "".join(json.dumps(line) + "\n" for line in lines)
    output.write_text(whole + '{"name": "c.exa')  # interrupted mid-line
    done, summary = read_done(output)
    assert done == {("a.example.", "A"), ("b.example.", "A")}
    assert summary.to_json()["verdicts"] == {"secure": 1, "bogus": 1}
    assert summary.to_json()["causes"] == {"RRSIG_EXPIRED": 1}
    assert output.read_text() == whole  # the cut line is gone


def test_resume_refuses_a_file_that_is_not_a_scan(tmp_path: Path) -> None:
    output = tmp_path / "notes.txt"
    output.write_text("hello\n")
    with pytest.raises(UsageError, match="line 1: not a scan result"):
        read_done(output)


# --- against the lab --------------------------------------------------------------------------


def _scan(
    profile: LabProfile,
    questions: list[Question],
    *,
    jobs: int = 0,
    skip: set[tuple[str, str]] | None = None,
) -> list[dict[str, Any]]:
    settings = lab_settings(profile, timeout=1.0, deadline=10.0)
    results: list[dict[str, Any]] = []
    options = ScanOptions(concurrency=16, per_server_qps=5000, total_qps=50000, jobs=jobs)
    asyncio.run(scan_questions(iter(questions), settings, options, results.append, skip=skip))
    return results


def _essence(result: dict[str, Any], *, resolver_warnings: bool = True) -> tuple[object, ...]:
    return (
        result["verdict"],
        result["ede"],
        result["zone"],
        tuple(c["code"] for c in result["causes"]),
        tuple(w for w in result["warnings"] if resolver_warnings or w not in resolvers.EMITS),
        tuple(result["actors"]),
    )


@pytest.mark.lab
def test_sharing_never_changes_a_verdict_on_any_lab_scenario(lab: LabProfile) -> None:
    """Every scenario of the catalogue scanned together (one cache) gives what check
    gives for it alone."""
    questions = [Question(s.query_name, s.qtype, n) for n, s in enumerate(SCENARIOS, 1)]
    scanned = {(r["name"], r["type"]): r for r in _scan(lab, questions, jobs=1)}
    assert len(scanned) == len(SCENARIOS)
    settings = lab_settings(lab, timeout=1.0, deadline=10.0)
    differences = []
    for scenario in SCENARIOS:
        snapshot = collect(scenario.query_name, scenario.qtype, settings)
        alone = result_of(build_report(snapshot, AnalysisOptions(now=snapshot.finished_at)))
        together = scanned[(dns.name.from_text(scenario.query_name).to_text(), scenario.qtype)]
        # The resolvers are asked anew by each name (nothing of theirs is shared), at two
        # different moments here: whether they agree with each other may change between
        # the two (a lame zone's SERVFAIL against a timeout on a loaded machine).
        together_essence = _essence(together, resolver_warnings=False)
        alone_essence = _essence(alone, resolver_warnings=False)
        if together_essence != alone_essence:
            differences.append((scenario.slug, together_essence, alone_essence))
    assert differences == []


def _manifest_essence(entry: bulk.ManifestEntry) -> tuple[object, ...]:
    return (entry.verdict, entry.ede, entry.zone, entry.cause)


def _result_essence(result: dict[str, Any]) -> tuple[object, ...]:
    cause = result["causes"][0]["code"] if result["causes"] else None
    return (result["verdict"], result["ede"], result["zone"], cause)


@pytest.mark.lab
def test_scan_reproduces_the_bulk_manifest_name_by_name(lab: LabProfile) -> None:
    manifest = list(bulk.read_manifest(lab.directory))
    questions = [Question(e.name, e.type, n) for n, e in enumerate(manifest, 1)]
    results = _scan(lab, questions)
    got = {(r["name"], r["type"]): _result_essence(r) for r in results}
    assert len(results) == len(got) == len(manifest)  # each name once
    expected = {(e.name, e.type): _manifest_essence(e) for e in manifest}
    assert {k: v for k, v in got.items() if expected.get(k) != v} == {}
    summary = Summary()
    for result in results:
        summary.add(result)
    assert summary.verdicts == collections.Counter(e.verdict for e in manifest)
    assert summary.causes == collections.Counter(e.cause for e in manifest if e.cause)


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dnssec_doctor", "scan", *args],
        capture_output=True,
        text=True,
        input=stdin,
        check=False,
        timeout=300,
    )


@pytest.mark.lab
def test_an_interrupted_scan_resumes_without_duplicates_or_gaps(
    lab: LabProfile, tmp_path: Path
) -> None:
    manifest = list(bulk.read_manifest(lab.directory))[:40]
    names = tmp_path / "names.txt"
    names.write_text("".join(f"{e.name} {e.type}\n" for e in manifest))
    output = tmp_path / "out.jsonl"
    summary_file = tmp_path / "summary.json"
    common = ["--lab", "--lab-dir", str(lab.directory), "--timeout", "1", "--deadline", "10"]
    common += ["--jobs", "0", "--max-qps-per-server", "5000", "-o", str(output)]
    first = _run(str(names), *common)
    assert first.returncode == 0, first.stderr
    # An interruption: the last 25 results never written, the one before cut mid-line.
    lines = output.read_text().splitlines(keepends=True)
    assert len(lines) == 40
    output.write_text("".join(lines[:14]) + lines[14][:30])
    second = _run(str(names), *common, "--resume", "--summary-json", str(summary_file))
    assert second.returncode == 0, second.stderr
    assert "26 names in" in second.stderr and "14 names skipped as done" in second.stderr
    results = [json.loads(line) for line in output.read_text().splitlines()]
    keys = [(r["name"], r["type"]) for r in results]
    assert sorted(keys) == sorted((e.name, e.type) for e in manifest)  # no gap, no duplicate
    for result in results:
        entry = next(e for e in manifest if e.name == result["name"])
        assert _result_essence(result) == _manifest_essence(entry)
    summary = json.loads(summary_file.read_text())
    assert summary["names"] == 40
    assert summary["verdicts"] == dict(collections.Counter(e.verdict for e in manifest))
    assert summary["this_run"]["names"] == 26


@pytest.mark.lab
def test_a_malformed_line_stops_the_scan_after_the_names_before_it(
    lab: LabProfile, tmp_path: Path
) -> None:
    [first, second] = list(bulk.read_manifest(lab.directory))[:2]
    output = tmp_path / "out.jsonl"
    result = _run(
        "-",
        "--lab",
        "--lab-dir",
        str(lab.directory),
        "--jobs",
        "0",
        "-o",
        str(output),
        stdin=f"{first.name}\n{second.name}\nbad..name\n",
    )
    assert result.returncode == 4
    [line] = result.stderr.strip().splitlines()
    assert "standard input line 3" in line and "Traceback" not in line
    written = [json.loads(line)["name"] for line in output.read_text().splitlines()]
    assert sorted(written) == sorted([first.name, second.name])


def test_an_unreadable_names_file_is_one_line_and_exit_4(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "missing.txt"), "--no-resolvers")
    assert result.returncode == 4
    [line] = result.stderr.strip().splitlines()
    assert "cannot read" in line and "missing.txt" in line
    resumed = _run(str(tmp_path / "missing.txt"), "--resume")
    assert resumed.returncode == 4 and "--resume needs --output" in resumed.stderr


# --- Parquet and Dask -----------------------------------------------------------------------


@pytest.mark.lab
def test_a_local_dask_cluster_of_two_reproduces_the_manifest_in_parquet(
    lab: LabProfile, tmp_path: Path
) -> None:
    import pyarrow.parquet as pq

    manifest = list(bulk.read_manifest(lab.directory))
    names = tmp_path / "names.txt"
    names.write_text("".join(f"{e.name} {e.type}\n" for e in manifest))
    output = tmp_path / "out.jsonl"
    dataset = tmp_path / "dataset"
    result = _run(
        str(names),
        "--lab",
        "--lab-dir",
        str(lab.directory),
        "--max-qps-per-server",
        "10000",
        "--dask",
        "local:2",
        "--partition-size",
        "40",
        "-o",
        str(output),
        "--parquet",
        str(dataset),
    )
    assert result.returncode == 0, result.stderr
    table = pq.read_table(dataset).to_pylist()
    assert len(table) == len(manifest)
    got = {(r["name"], r["type"]): (r["verdict"], r["ede"], r["zone"], r["cause"]) for r in table}
    expected = {(e.name, e.type): _manifest_essence(e) for e in manifest}
    assert {k: v for k, v in got.items() if expected.get(k) != v} == {}
    lines = output.read_text().splitlines()
    assert len(lines) == len({(json.loads(line)["name"]) for line in lines}) == len(manifest)


def test_an_unreachable_scheduler_is_one_line_and_exit_5(tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("example.com\n")
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    result = _run(str(names), "--no-resolvers", "--dask", "tcp://127.0.0.1:9")
    assert result.returncode == 5, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in line


@pytest.mark.parametrize("spec", ["local:0", "local:x", "local", "two words"])
def test_a_malformed_dask_option_is_a_usage_error(spec: str, tmp_path: Path) -> None:
    result = _run("-", "--no-resolvers", "--dask", spec, stdin="")
    assert result.returncode == 4
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("size", ["0", "-5", "1000001"])
def test_a_cache_memory_that_is_not_a_size_is_a_usage_error(size: str) -> None:
    result = _run("-", "--no-resolvers", "--cache-memory", size, stdin="")
    assert result.returncode == 4, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- delegations of a zone file -------------------------------------------------------------


@pytest.mark.lab
def test_the_delegations_of_a_tld_zone_file_are_the_bulk_zones(lab: LabProfile) -> None:
    from dnssec_doctor.scan.names import read_delegations

    manifest = list(bulk.read_manifest(lab.directory))
    zone_file = lab.directory / "zones" / "bulk.zone"
    every = [q.name for q in read_delegations(zone_file)]
    zones = [dns.name.from_text(e.name).parent().to_text() for e in manifest]
    assert sorted(every) == sorted(zones)
    assert all(q.rdtype == "SOA" for q in read_delegations(zone_file))
    # The unsigned ones have no DS at the parent; every other kind has one.
    signed = {q.name for q in read_delegations(zone_file, with_ds=True)}
    unsigned = {
        dns.name.from_text(e.name).parent().to_text() for e in manifest if e.kind == "unsigned"
    }
    assert signed == set(zones) - unsigned


def test_a_file_that_is_not_a_zone_is_one_line_and_exit_4(tmp_path: Path) -> None:
    text = tmp_path / "names.txt"
    text.write_text("example.com\nexample.org\n")
    result = _run("--zone-file", str(text), "--no-resolvers")
    assert result.returncode == 4
    [line] = result.stderr.strip().splitlines()
    assert str(text) in line and "Traceback" not in line
    both = _run(str(text), "--zone-file", str(text), "--no-resolvers")
    assert both.returncode == 4 and "not both" in both.stderr


def test_a_timeout_is_asked_once_more_before_it_counts() -> None:
    calls = collections.Counter[str]()

    def handler(query: dns.message.Message, server: Server, tcp: bool) -> Any:
        name = query.question[0].name.to_text()
        calls[name] += 1
        if name == "dead." or calls[name] == 1:
            return None  # the first try of every question is lost; dead. never answers
        return _answer(query)

    overloads: list[str] = []
    cache = CachingTransport(
        ScriptedTransport(handler),
        per_server_qps=1000,
        on_rescue=lambda: overloads.append("late"),
        retry_pause=0.0,
    )
    _exchange(cache, "lossy.")  # answered by the second try
    query = dns.message.make_query("dead.", "A")
    reply = asyncio.run(cache.exchange(query, ROOT_SERVER, tcp=False, timeout=2.0))
    assert reply.error == "timeout"
    assert calls == {"lossy.": 2, "dead.": 2}
    assert cache.stats.retried == 2
    # The answer the retry got shows answers coming late (an overload); the server that
    # never answers is dead, not a sign of overload.
    assert cache.stats.rescued == 1 and overloads == ["late"]


def test_the_names_at_once_halve_on_overload_and_grow_back() -> None:
    now = [0.0]
    window = Window(200, cooldown=2.0, clock=lambda: now[0])

    async def finish(names: int) -> None:
        for _ in range(names):
            async with window.slot():
                pass

    assert window.size == 8  # a small start
    asyncio.run(finish(10))
    assert window.size == 18  # one more a name until the first overload
    window.congested()
    window.congested()  # the same overload: halved once
    assert (window.size, window.halvings) == (9, 1)
    asyncio.run(finish(9))
    assert 9.9 < window.size < 10  # then one more a round of names
    now[0] = 2.5
    for _ in range(4):
        window.congested()
        now[0] += 2.5
    assert window.size == 4 and window.halvings == 5  # never below MIN_WINDOW
    small = Window(2, cooldown=2.0)
    small.congested()
    assert small.size == 2  # nor above what was asked for


def test_only_as_many_names_as_the_window_run_at_once() -> None:
    window = Window(200, cooldown=2.0)
    running: list[tuple[int, int]] = []  # names running, the window, as each starts

    async def one() -> None:
        async with window.slot():
            running.append((window.active, int(window.size)))
            await asyncio.sleep(0.01)

    async def many() -> None:
        await asyncio.gather(*(one() for _ in range(40)))

    asyncio.run(many())
    assert len(running) == 40
    assert [active for active, _ in running[:8]] == list(range(1, 9))  # 8 at the start
    assert all(active <= size for active, size in running)
    assert max(active for active, _ in running) > 8  # and more as names finish
