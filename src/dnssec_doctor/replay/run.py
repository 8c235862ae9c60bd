"""Running a replay scenario: ``check`` on each QUERY step against the scenario's servers.

Each QUERY step is checked on its own, with the scenario's root (``stub-zone "."``), its
trust anchors and its ``val-override-date`` as the moment of collection and judgement:
the same probe (over a ``ScriptedTransport`` answering from the scenario's ranges at that
step), the same snapshot, the same analysis and diagnosis as ``check``. The answer the
scenario expects (the next CHECK_ANSWER) is read as a validator's verdict: SERVFAIL is
bogus, AD secure, an answer without AD to a query with DO (or AD) insecure. Without DO
or with CD the expected answer states no verdict, and the step is not compared.

Steps run independently: what Unbound carries from one step to the next (its caches,
negative caching, key prefetching) is not replayed, and scenarios that test it can differ.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass

import dns.rdatatype

from dnssec_doctor.diagnosis.report import Report, build_report
from dnssec_doctor.errors import UsageError
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Server
from dnssec_doctor.probe.collect import collect_snapshot
from dnssec_doctor.probe.plan import SIGNATURE_TYPES
from dnssec_doctor.probe.settings import AddressPolicy, ProbeSettings
from dnssec_doctor.probe.transport import ScriptedTransport
from dnssec_doctor.replay.scenario import Entry, Scenario, Step
from dnssec_doctor.replay.servers import ScenarioServers

# A replayed probe waits for nothing: the bounds are only against a runaway scenario.
REPLAY_DEADLINE = 30.0
REPLAY_MAX_QUERIES = 500


@dataclass(frozen=True)
class Expectation:
    """What a scenario's CHECK_ANSWER says the validator answers."""

    rcode: str
    flags: tuple[str, ...]
    ede: int | None
    verdict: str | None  # secure / insecure / bogus; None when the answer states none
    line: int | None  # of the CHECK_ANSWER; None when the step has none


@dataclass(frozen=True)
class StepResult:
    step: int
    qname: str
    qtype: str
    query_flags: tuple[str, ...]
    expected: Expectation
    report: Report | None  # None when the step cannot be checked (see ``skipped``)
    unmatched: tuple[str, ...]  # queries no entry answered (silent servers)
    skipped: str | None = None  # why the step was not checked (a type check refuses)

    @property
    def verdict(self) -> str | None:
        return None if self.report is None else self.report.diagnosis.verdict.value

    @property
    def agrees(self) -> bool | None:
        """Whether our verdict (and EDE, where the scenario states one) is the expected
        one; None when the scenario states no verdict."""
        if self.expected.verdict is None or self.report is None:
            return None
        if self.verdict != self.expected.verdict:
            return False
        return self.expected.ede is None or self.report.diagnosis.ede == self.expected.ede


def expectation(query: Entry, check: Step | None) -> Expectation:
    if check is None or check.entry is None:
        return Expectation("", (), None, None, None)
    entry = check.entry
    flags = tuple(sorted(entry.flags))
    asked = query.flags
    verdict: str | None
    if entry.rcode == "SERVFAIL":
        verdict = "bogus"
    elif "AD" in entry.flags:
        verdict = "secure"
    elif "CD" in asked or not asked & {"DO", "AD"}:
        verdict = None  # the resolver did not say whether it validated
    else:
        verdict = "insecure"
    return Expectation(entry.rcode, flags, entry.ede, verdict, check.line)


def query_steps(scenario: Scenario) -> list[tuple[Step, Step | None]]:
    """Each QUERY step with the CHECK_ANSWER that follows it (None if another QUERY or
    the end comes first)."""
    pairs: list[tuple[Step, Step | None]] = []
    for index, step in enumerate(scenario.steps):
        if step.kind != "QUERY":
            continue
        check = None
        for later in scenario.steps[index + 1 :]:
            if later.kind == "QUERY":
                break
            if later.kind == "CHECK_ANSWER":
                check = later
                break
        pairs.append((step, check))
    return pairs


def replay_settings(scenario: Scenario) -> ProbeSettings | str:
    """The probe's settings for the scenario, or why it cannot be replayed."""
    if not scenario.root_addresses:
        forwarded = any(block == "forward-zone" for block, _, _ in scenario.options)
        return (
            "the scenario forwards to another resolver (forward-zone): an iterative probe "
            "cannot replay that"
            if forwarded
            else "the scenario gives no root servers (stub-zone '.'): the probe walks from the root"
        )
    return ProbeSettings(
        root_hints=tuple(Server(address) for address in scenario.root_addresses),
        trust_anchors=scenario.trust_anchors,
        deadline=REPLAY_DEADLINE,
        max_queries=REPLAY_MAX_QUERIES,
        address_policy=AddressPolicy.ANY,  # nothing leaves the process: any address is fine
    )


def run_scenario(
    scenario: Scenario, *, accepted_algorithms: frozenset[int] = frozenset()
) -> list[StepResult]:
    """Check every QUERY step of ``scenario``; never touches the network."""
    settings = replay_settings(scenario)
    moment = scenario.override_date if scenario.override_date is not None else time.time()
    results: list[StepResult] = []
    for step, check in query_steps(scenario):
        entry = step.entry
        if entry is None or entry.question is None:
            raise UsageError(
                f"{scenario.path}:{step.line}: STEP {step.number} QUERY has no question"
            )
        name, rdtype, _ = entry.question
        qtype = dns.rdatatype.to_text(dns.rdatatype.RdataType(rdtype))
        servers = ScenarioServers(scenario, step.number)
        report: Report | None = None
        skipped: str | None = settings if isinstance(settings, str) else None
        try:
            if isinstance(settings, str):
                raise UsageError(settings)
            if dns.rdatatype.RdataType(rdtype) in SIGNATURE_TYPES:
                # As check refuses it: validators answer a question for the signatures
                # themselves without validating them; signatures are judged with the RRset
                # they cover.
                raise UsageError(
                    f"a question for type {qtype}: validators answer it without validating, "
                    "and check refuses it"
                )
            snapshot = asyncio.run(
                collect_snapshot(
                    name.to_text(),
                    qtype,
                    settings,
                    ScriptedTransport(servers),
                    clock=lambda: moment,
                )
            )
        except UsageError as error:  # a question check refuses (ANY, a meta type)
            skipped = error.message
        else:
            options = AnalysisOptions(now=moment, accepted_algorithms=accepted_algorithms)
            if scenario.nsec3_iteration_limit is not None:
                options = dataclasses.replace(
                    options, nsec3_iteration_limit=scenario.nsec3_iteration_limit
                )
            report = build_report(snapshot, options)
        results.append(
            StepResult(
                step=step.number,
                qname=name.to_text(),
                qtype=qtype,
                query_flags=tuple(sorted(entry.flags)),
                expected=expectation(entry, check),
                report=report,
                unmatched=tuple(servers.unmatched),
                skipped=skipped,
            )
        )
    return results
