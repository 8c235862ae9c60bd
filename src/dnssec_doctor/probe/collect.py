"""Collecting a snapshot: walk the delegation to a name, ask every server, keep every byte.

From the root hints down to the name, at every zone cut, every server of the zone (every
NS name, every address the policy allows) is asked, with DO set and RD clear, the name
itself, the apex DNSKEY, SOA, NS, CDS and CDNSKEY, and a name that cannot exist; the
parent's servers are asked for the child's DS. CNAME and DNAME targets are walked the
same way. Every resolver is asked the name three ways (plain, DO, DO+CD) while the walk
runs. With ``transport_probes`` (check), each server of the zone that holds the name is
also asked its SOA over TCP (plain, and with an unknown EDNS option) and with EDNS version
1, once per address (``plan.transport_probes``); a server silent over UDP is asked over TCP
at once. The probes never decide whether a server is dead. Everything sent
is recorded as an ``Exchange`` in the order it was sent.

Bounds, so that no input can hang or flood: every query has a timeout, the collection a
deadline, the number of queries a budget, zone cuts, redirections and nested address
lookups a depth. A server that times out or refuses before it has answered anything is
dead for the rest of the run: the first question to a server goes alone, and if it fails
the others are not sent. One that has answered stays alive when it ignores a question.
Questions not sent (dead server, budget, deadline) are not exchanges: they are counted
in the notes and listed in ``extra["skipped"]``.

Every query is sent as soon as what it depends on is known, and each exchange records in
``after`` the answer it waited for last (``probe.rounds`` counts the answers waited for
in a row from it, and the fewest the hierarchy allows).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype

from dnssec_doctor import __version__
from dnssec_doctor.model import snapshot
from dnssec_doctor.model.redirect import read_chain
from dnssec_doctor.model.snapshot import (
    DEADLINE_CUT,
    QUERY_EDNS_PAYLOAD,
    TRANSPORT_PROBES,
    UNSENT,
    Exchange,
    Purpose,
    Role,
    Server,
    Snapshot,
    ZoneCut,
)
from dnssec_doctor.probe import plan
from dnssec_doctor.probe.plan import Question, Referral
from dnssec_doctor.probe.settings import (
    AddressPolicy,
    ProbeSettings,
    read_root_hints,
    read_trust_anchors,
)
from dnssec_doctor.probe.transport import (
    NetworkTransport,
    ReplayTransport,
    Reply,
    Transport,
    is_truncated,
    normal_address,
)

# What a shell (the CLI, a web service) needs, importable from one place.
__all__ = [
    "AddressPolicy",
    "NetworkTransport",
    "ProbeSettings",
    "ReplayTransport",
    "Transport",
    "collect",
    "collect_snapshot",
    "read_root_hints",
    "read_trust_anchors",
]

TOOL = f"dnssec-doctor {__version__}"
DEADLINE_GRACE = 0.5  # seconds past the deadline before in-flight queries are abandoned
MAX_ADDRESS_STEPS = 16  # referrals and CNAMEs followed in one address lookup
# A zone's servers are all asked the walk's question; once one has answered, the others
# are waited for as long again as that answer took (at least STRAGGLER_GRACE seconds).
# A slower one's answer is still recorded and relabelled, but the walk does not wait.
STRAGGLER_GRACE = 0.05

# Told of each step as it happens: ("zone", name), ("sent", server), ("done", server).
Progress = Callable[[str, str], None]

# Why a question was not sent.
SKIP_DEAD = "server unresponsive"
SKIP_BUDGET = "query budget exhausted"
SKIP_DEADLINE = "deadline reached"

_T = TypeVar("_T")

# The exchange whose answer the current line of work waited for last: set by each answer,
# copied into every task started after it, and merged when tasks are gathered.
_WAITED_ON: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "dnssec_doctor_waited_on", default=None
)


async def collect_snapshot(
    name: str,
    rdtype: str,
    settings: ProbeSettings,
    transport: Transport,
    *,
    clock: Callable[[], float] = time.time,
    progress: Progress | None = None,
    answers: Callable[[bytes], None] | None = None,
) -> Snapshot:
    """Walk to ``name``/``rdtype`` and ask every server and resolver; never raises for
    anything the network or the servers do (``UsageError`` for a bad name or type).
    ``answers`` is handed each response's bytes as it arrives."""
    qname = plan.parse_name(name)
    qtype = plan.parse_rdtype(rdtype, replay=True)  # the commands parsed it for users
    collector = _Collector(settings, transport, clock, progress, answers)
    return await collector.run(qname, qtype)


def collect(
    name: str,
    rdtype: str,
    settings: ProbeSettings,
    transport: Transport | None = None,
    *,
    clock: Callable[[], float] = time.time,
    progress: Progress | None = None,
    answers: Callable[[bytes], None] | None = None,
) -> Snapshot:
    """``collect_snapshot`` for callers without an event loop (the CLI)."""
    return asyncio.run(
        collect_snapshot(
            name,
            rdtype,
            settings,
            transport or NetworkTransport(),
            clock=clock,
            progress=progress,
            answers=answers,
        )
    )


@dataclass
class _Record:
    """An exchange while it is in flight; frozen into an ``Exchange`` at the end."""

    id: int
    role: Role
    purpose: Purpose
    zone: str | None
    server: Server
    qname: str
    qtype: str
    rd: bool
    cd: bool
    do: bool
    transport: snapshot.Transport
    sent_at: float
    duration: float | None = None
    response: bytes | None = None
    error: str | None = UNSENT
    after: int | None = None
    arrived: float = 0.0  # event-loop time the answer or the failure came

    def freeze(self) -> Exchange:
        return Exchange(
            id=self.id,
            role=self.role,
            purpose=self.purpose,
            zone=self.zone,
            server=self.server,
            qname=self.qname,
            qtype=self.qtype,
            rd=self.rd,
            cd=self.cd,
            do=self.do,
            transport=self.transport,
            sent_at=self.sent_at,
            duration=self.duration,
            response=self.response,
            error=self.error,
            after=self.after,
            payload=QUERY_EDNS_PAYLOAD,  # every query offers it (plan.make_query)
        )


@dataclass
class _Health:
    """What is known of one server address (per transport): the first question goes
    alone, the others wait for its outcome."""

    settled: asyncio.Event = field(default_factory=asyncio.Event)
    claimed: bool = False
    dead: str | None = None  # the error that showed it unresponsive
    # It has answered something: a later silence is that question's (a server or a
    # firewall that drops some types, such as CDS), not a dead server.
    answered: bool = False
    first: int | None = None  # the exchange of the first question, which the others await


@dataclass(frozen=True)
class _Answer:
    """A question that was sent: its records (UDP, then TCP after truncation) and the
    final response, parsed when it can be followed."""

    server: Server
    records: tuple[_Record, ...]
    question: Question
    response: bytes | None  # the final response's bytes

    @functools.cached_property
    def message(self) -> dns.message.Message | None:
        # Parsed when the walk reads it, not before: most answers (the apex questions, the
        # DS, the resolvers') are only recorded, and the analysis parses them once.
        return plan.read_response(self.response, self.question)


class _Collector:
    def __init__(
        self,
        settings: ProbeSettings,
        transport: Transport,
        clock: Callable[[], float],
        progress: Progress | None = None,
        answers: Callable[[bytes], None] | None = None,
    ) -> None:
        self.progress = progress or (lambda event, subject: None)
        self.answers = answers
        self.settings = settings
        self.transport = transport
        self.clock = clock
        self.loop = asyncio.get_running_loop()
        self.deadline_at = self.loop.time() + settings.deadline
        self.semaphore = asyncio.Semaphore(settings.concurrency)
        self.records: list[_Record] = []
        self.sent = 0
        self.notes: list[str] = []
        self.skipped: list[dict[str, Any]] = []
        self.health: dict[tuple[str, bool], _Health] = {}
        self.cuts: dict[dns.name.Name, ZoneCut] = {}
        # Every delegation learned (the path's and the address lookups'): where an
        # address lookup starts.
        self.delegations: dict[dns.name.Name, tuple[Server, ...]] = {}
        self.apex_asked: set[dns.name.Name] = set()
        self.probed: set[tuple[str, Purpose]] = set()  # (address, purpose) probes sent
        self.ds_asked: set[dns.name.Name] = set()
        self.addresses: dict[dns.name.Name, tuple[str, ...]] = {}
        self.judged: dict[str, bool] = {}  # address -> may be asked
        self.background: set[asyncio.Task[Any]] = set()
        # (zone, name, type) of the questions the walk ended with: their exchanges are
        # the answers, even those of servers that answered after the walk went on.
        self.answer_questions: set[tuple[str, str, str]] = set()
        self.deadline_hit = False  # some query's wait was shortened by the deadline

    # --- the run ---------------------------------------------------------------------

    async def run(self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType) -> Snapshot:
        collected_at = self.clock()
        targets: list[tuple[dns.name.Name, dns.rdatatype.RdataType]] = [(qname, qtype)]
        try:
            async with asyncio.timeout(self.settings.deadline + DEADLINE_GRACE):
                for resolver in self.settings.resolvers:
                    self._spawn(self._ask_resolver(Server(resolver), qname, qtype))
                await self._walk_targets(targets)
                while self.background:
                    await asyncio.gather(*list(self.background), return_exceptions=True)
        except TimeoutError:
            self.notes.append(
                f"deadline of {self.settings.deadline:g} s reached: queries in flight abandoned"
            )
        finally:
            for task in list(self.background):
                task.cancel()
            if self.background:
                await asyncio.gather(*list(self.background), return_exceptions=True)
        return self._snapshot(qname, qtype, targets, collected_at)

    async def _walk_targets(
        self, targets: list[tuple[dns.name.Name, dns.rdatatype.RdataType]]
    ) -> None:
        # This walk's own line of work: what another probe in the same context (a scan
        # probes many names in one) waited for is not this one's.
        token = _WAITED_ON.set(None)
        try:
            await self._walk_chain(targets)
        finally:
            _WAITED_ON.reset(token)

    async def _walk_chain(
        self, targets: list[tuple[dns.name.Name, dns.rdatatype.RdataType]]
    ) -> None:
        qname, qtype = targets[0]
        seen = {qname}
        # The names to walk next, at once: an answer names the rest of a chain inside its
        # zone, so those walks need not wait for each other.
        frontier = [qname]
        ended = False  # a loop or the redirect bound: walk what is listed, then stop
        while frontier:
            tasks = self._start([self._walk(name, qtype) for name in frontier])
            walked = await asyncio.gather(*tasks, return_exceptions=True)
            for name, result in zip(frontier, walked, strict=True):
                if isinstance(result, BaseException):  # a probe bug must not lose the rest
                    self.notes.append(f"probe error while walking to {name}: {_describe(result)}")
                    return
                # The next names' walks wait for the answers these walks waited for (the
                # answers in a row count them: probe.rounds).
                self._waited_for(result[1])
            final = walked[-1]
            assert not isinstance(final, BaseException)
            last = final[0]
            frontier = []
            for following in [] if ended else last:
                if following in seen:
                    self.notes.append(
                        f"redirection loop: {targets[-1][0]} leads back to {following}"
                    )
                    ended = True
                    break
                if len(targets) > self.settings.max_redirects:
                    self.notes.append(
                        f"more than {self.settings.max_redirects} CNAME/DNAME redirections: "
                        f"{following} not followed"
                    )
                    ended = True
                    break
                targets.append((following, qtype))
                seen.add(following)
                frontier.append(following)

    async def _walk(
        self, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
    ) -> list[dns.name.Name]:
        """Walk from the root to the zone holding ``qname``; return where a CNAME or
        DNAME there sends the question next (and on, as far as that answer shows)."""
        via = qname.to_text()
        zone: dns.name.Name = dns.name.root
        servers = self.settings.root_hints
        self._add_cut(zone, None, servers, via)
        question = plan.target_question(qname, qtype)
        zone, servers = self._resume_walk(question, zone, servers)
        for _ in range(self.settings.max_cuts):
            answers = await self._ask_zone(question, zone, servers)
            messages = [a.message for a in answers if a.message is not None]
            referral = plan.merge_referrals(
                r for m in messages if (r := plan.read_referral(m, zone, qname)) is not None
            )
            if referral is not None:
                child_servers = await self._delegated_servers(referral, 0)
                self._add_cut(referral.child, zone, child_servers, via)
                self._ask_ds(referral.child, servers)
                if not self._askable(child_servers):
                    self.notes.append(
                        f"no address to ask for any server of {referral.child}: "
                        f"the walk to {qname} stops there"
                    )
                    return []
                zone, servers = referral.child, child_servers
                continue
            # No referral: this zone's servers hold the name (or hide the zone that does,
            # served by the same servers): probe their transports now, not a round later.
            self._probe_transports(zone, servers)
            hidden = await self._find_hidden_cut(answers, zone, qname)
            if hidden is not None:
                apex, hosts = hidden
                self.notes.append(
                    f"hidden zone cut: {apex} is served by the same servers as {zone}"
                )
                self._add_cut(apex, zone, hosts, via)
                self._ask_ds(apex, servers)
                zone, servers = apex, hosts
                continue
            # The walk ends here: this zone holds the name (or no server could say).
            self._mark_answers(question, zone)
            if not messages:
                self.notes.append(f"no usable answer from any server of {zone} for {qname}")
            for message in messages:
                if plan.is_authoritative_answer(message):
                    return read_chain(message, qname, qtype)
            return []
        self.notes.append(f"more than {self.settings.max_cuts} zone cuts on the way to {qname}")
        return []

    def _resume_walk(
        self, question: Question, zone: dns.name.Name, servers: tuple[Server, ...]
    ) -> tuple[dns.name.Name, tuple[Server, ...]]:
        """Where a walk to a CNAME or DNAME target goes on from: the deepest zone an earlier
        walk found above it, so the referrals known already are not waited for again.
        Every zone above that one is still asked the question (the same evidence as a walk
        from the root), alongside."""
        # The cuts above a name are nested: sorted by length they are its path from the root.
        path = sorted((c for c in self.cuts if question.qname.is_subdomain(c)), key=len)
        start = path[-1] if path else zone
        if start == zone:
            return zone, servers
        for above in path[:-1]:
            for server in self._askable(self.cuts[above].servers):
                self._spawn(self._ask(question, server, above))
        return start, self.cuts[start].servers

    async def _ask_zone(
        self, question: Question, zone: dns.name.Name, servers: tuple[Server, ...]
    ) -> list[_Answer]:
        """Ask every server of the zone the question; the apex questions (once per zone)
        run alongside, in the background."""
        asked = self._askable(servers)
        # The question first: the first question to a server goes alone (see _send).
        tasks = self._start([self._ask(question, s, zone) for s in asked])
        if zone not in self.apex_asked:
            self.apex_asked.add(zone)
            self.delegations.setdefault(zone, servers)
            for server in asked:
                for apex_question in plan.apex_questions(zone):
                    self._spawn(self._ask(apex_question, server, zone))
        results = await self._join_prompt(tasks)
        return [a for a in results if a is not None]

    async def _join_prompt(
        self, tasks: list[asyncio.Task[tuple[_Answer | None, int | None]]]
    ) -> list[_Answer | None]:
        """The answers of one question to a zone's servers, without waiting for a slow
        server once another has answered (see STRAGGLER_GRACE): the ones still pending
        go on in the background and are recorded when they come."""
        started = self.loop.time()
        pending: set[asyncio.Task[Any]] = set(tasks)
        until: float | None = None
        while pending:
            timeout = None if until is None else max(0.0, until - self.loop.time())
            done, pending = await asyncio.wait(
                pending, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                break
            if until is None and any(t.result()[0] is not None for t in done):
                answered = self.loop.time()
                until = answered + max(STRAGGLER_GRACE, answered - started)
        for task in pending:
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        finished = [task for task in tasks if task.done()]
        for task in finished:
            self._waited_for(task.result()[1])
        return [task.result()[0] for task in finished]

    def _mark_answers(self, question: Question, zone: dns.name.Name) -> None:
        """The walk ends at ``zone``: its servers' responses to the question are answers,
        those in hand and those still coming."""
        key = (zone.to_text(), question.qname.to_text(), dns.rdatatype.to_text(question.rdtype))
        self.answer_questions.add(key)
        for record in self.records:
            if (
                record.purpose is Purpose.REFERRAL
                and (record.zone, record.qname, record.qtype) == key
            ):
                record.purpose = Purpose.ANSWER

    def _probe_transports(
        self, zone: dns.name.Name, servers: tuple[Server, ...], *, only_tcp: bool = False
    ) -> None:
        """The transport probes (TCP, an unknown option, EDNS version 1) of each server of
        ``zone``, in the
        background, once per address, and only when the settings ask for them."""
        if not self.settings.transport_probes:
            return
        for server in self._askable(servers):
            for question, tcp in plan.transport_probes(zone):
                key = (_normal(server.address), question.purpose)
                if key in self.probed or (only_tcp and not tcp):
                    continue
                self.probed.add(key)
                self._spawn(self._send(question, server, zone, Role.AUTHORITATIVE, tcp=tcp))

    def _ask_ds(self, child: dns.name.Name, parent_servers: tuple[Server, ...]) -> None:
        if child in self.ds_asked:
            return
        self.ds_asked.add(child)
        for server in self._askable(parent_servers):
            # zone is the child: the DS RRset is the child's, asked of the parent.
            self._spawn(self._ask(plan.ds_question(child), server, child))

    async def _find_hidden_cut(
        self, answers: list[_Answer], zone: dns.name.Name, qname: dns.name.Name
    ) -> tuple[dns.name.Name, tuple[Server, ...]] | None:
        """A zone below ``zone`` that answered for ``qname`` from the same servers, and
        the servers that showed it."""
        found: dict[dns.name.Name, list[Server]] = {}
        probe_from: _Answer | None = None
        for answer in answers:
            if answer.message is None:
                continue
            apex = plan.read_hidden_apex(answer.message, zone, qname)
            if apex is not None:
                found.setdefault(apex, []).append(answer.server)
            elif probe_from is None and plan.needs_apex_probe(answer.message, zone, qname):
                probe_from = answer
        if not found and probe_from is not None:
            # An unsigned positive answer says nothing of its zone: ask the name's SOA.
            probe = plan.apex_soa_probe(qname)
            checked = await self._ask(probe, probe_from.server, zone)
            if checked is not None and checked.message is not None:
                apex = plan.read_hidden_apex(checked.message, zone, qname)
                if apex is not None:
                    hosts = [
                        a.server
                        for a in answers
                        if a.message is not None and plan.is_authoritative_answer(a.message)
                    ]
                    found[apex] = hosts
        if not found:
            return None
        apex = max(found, key=lambda name: (len(found[name]), len(name)))
        return apex, tuple(found[apex])

    # --- servers and addresses --------------------------------------------------------

    async def _delegated_servers(self, referral: Referral, depth: int) -> tuple[Server, ...]:
        """Every (NS name, address) of a delegation: glue first, then a lookup of each
        name the parent gave no glue for."""
        lookups = [
            self._resolve_address(ns, depth + 1)
            for ns in referral.ns_names
            if not referral.glue.get(ns)
        ]
        looked_up = iter(await self._gather(lookups))
        servers: list[Server] = []
        for ns in referral.ns_names:
            addresses = referral.glue.get(ns) or next(looked_up)
            if not addresses:
                self.notes.append(f"{ns}, a server of {referral.child}, has no address")
            servers += [Server(address=a, name=ns.to_text()) for a in addresses]
        found = tuple(dict.fromkeys(servers))
        self.delegations.setdefault(referral.child, found)
        return found

    async def _resolve_address(self, name: dns.name.Name, depth: int) -> tuple[str, ...]:
        """The addresses of a server name without glue: an iterative lookup (purpose
        ADDRESS) from the closest known delegation, cached, depth-bounded."""
        if name in self.addresses:
            return self.addresses[name]
        if depth > self.settings.max_address_depth:
            self.notes.append(
                f"address lookup of {name} abandoned: more than "
                f"{self.settings.max_address_depth} nested lookups of names without glue"
            )
            return ()
        # A and AAAA at once: neither needs the other's answer.
        answers = await self._gather(
            [self._look_up(question, depth) for question in plan.address_questions(name)]
        )
        result = tuple(dict.fromkeys(a for found in answers for a in found))
        self.addresses[name] = result
        return result

    async def _look_up(self, question: Question, depth: int) -> tuple[str, ...]:
        qname = question.qname
        zone, servers = self._closest_delegation(qname)
        for _ in range(MAX_ADDRESS_STEPS):
            answer = await self._ask_first(question, zone, servers)
            if answer is None or answer.message is None:
                return ()
            message = answer.message
            referral = plan.read_referral(message, zone, qname)
            if referral is not None:
                servers = await self._delegated_servers(referral, depth)
                zone = referral.child
                continue
            addresses = plan.read_addresses(message, qname, question.rdtype)
            if addresses:
                return addresses
            following = plan.read_redirect(message, qname, question.rdtype)
            if following is None or following == qname:
                return ()
            qname = following
            question = Question(Purpose.ADDRESS, qname, question.rdtype)
            zone, servers = self._closest_delegation(qname)
        self.notes.append(f"address lookup of {question.qname} took too many steps")
        return ()

    def _closest_delegation(self, name: dns.name.Name) -> tuple[dns.name.Name, tuple[Server, ...]]:
        best: dns.name.Name = dns.name.root
        for zone in self.delegations:
            if name.is_subdomain(zone) and len(zone) > len(best) and self.delegations[zone]:
                best = zone
        return best, self.delegations.get(best) or self.settings.root_hints

    async def _ask_first(
        self, question: Question, zone: dns.name.Name, servers: tuple[Server, ...]
    ) -> _Answer | None:
        """Ask the servers one after another until one answers usefully."""
        for server in self._askable(servers):
            answer = await self._ask(question, server, zone)
            if answer is not None and answer.message is not None:
                rcode = answer.message.rcode()
                if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    return answer
        return None

    def _askable(self, servers: tuple[Server, ...]) -> tuple[Server, ...]:
        """The servers that may be asked: one per address, allowed by the policy,
        reachable (IPv6 only with a route)."""
        result: dict[str, Server] = {}
        for server in servers:
            address = _normal(server.address)
            if address in result or not self._may_ask(server):
                continue
            result[address] = server
        return tuple(result.values())

    def _may_ask(self, server: Server) -> bool:
        address = _normal(server.address)
        if address in self.judged:
            return self.judged[address]
        allowed = True
        if not self.settings.address_policy.allows(address):
            allowed = False
            self.notes.append(
                f"{server.label()} not asked: the address policy "
                f"{self.settings.address_policy.value} refuses {address}"
            )
        elif ":" in address and not self.settings.ipv6_route(address):
            allowed = False
            self.notes.append(f"IPv6 skipped: no route to {server.label()}")
        self.judged[address] = allowed
        return allowed

    def _add_cut(
        self,
        zone: dns.name.Name,
        parent: dns.name.Name | None,
        servers: tuple[Server, ...],
        via: str,
    ) -> None:
        if zone not in self.cuts:
            self.progress("zone", zone.to_text())
            self.cuts[zone] = ZoneCut(
                zone=zone.to_text(),
                parent=None if parent is None else parent.to_text(),
                servers=servers,
                via=via,
            )

    # --- asking ----------------------------------------------------------------------

    def _anchor_zone(self) -> dns.name.Name | None:
        """The zone of the first configured trust anchor (the root's, or an island's)."""
        for line in self.settings.trust_anchors:
            try:
                return dns.name.from_text(line.split(None, 1)[0])
            except (dns.exception.DNSException, IndexError):
                continue
        return None

    async def _ask_resolver(
        self, server: Server, qname: dns.name.Name, qtype: dns.rdatatype.RdataType
    ) -> None:
        if not self._may_ask(server):
            return
        # The three views are asked together: a resolver slow on one (it is resolving a
        # lame zone) may still answer the others, so no dead-server rule here.
        await self._gather(
            [
                self._ask(question, server, None, role=Role.RESOLVER)
                for question in plan.resolver_questions(qname, qtype, self._anchor_zone())
            ]
        )

    async def _ask(
        self,
        question: Question,
        server: Server,
        zone: dns.name.Name | None,
        *,
        role: Role = Role.AUTHORITATIVE,
    ) -> _Answer | None:
        """Send one question (over TCP again if the UDP response is truncated); None when
        it was not sent."""
        first = await self._send(question, server, zone, role, tcp=False)
        if first is None:
            return None
        records = [first]
        final = first
        if first.response is not None and is_truncated(first.response):
            _WAITED_ON.set(first.id)
            retried = await self._send(question, server, zone, role, tcp=True)
            if retried is not None:
                records.append(retried)
                if retried.response is not None:
                    final = retried
        _WAITED_ON.set(final.id)
        answer = _Answer(server, tuple(records), question, final.response)
        if self.settings.read_ahead:
            answer.message  # noqa: B018  # parsed now, while the other answers are awaited
        return answer

    async def _send(
        self,
        question: Question,
        server: Server,
        zone: dns.name.Name | None,
        role: Role,
        *,
        tcp: bool,
    ) -> _Record | None:
        health = self.health.setdefault((_normal(server.address), tcp), _Health())
        # The transport probes neither claim nor settle a server's health: their silence
        # is theirs to report (SERVER_NO_TCP, ...), never a reason to skip the walk's own
        # questions (a truncated answer retried over TCP), and a dead server still gets them.
        gated = role is Role.AUTHORITATIVE and question.purpose not in TRANSPORT_PROBES
        prober = False
        if gated:
            if not health.claimed:
                health.claimed = prober = True
            elif not health.settled.is_set():
                await health.settled.wait()
                self._waited_for(health.first)
            if health.dead is not None and not prober:
                self._skip(question, server, zone, tcp, SKIP_DEAD)
                return None
        try:
            async with self.semaphore:
                if self.sent >= self.settings.max_queries:
                    self._skip(question, server, zone, tcp, SKIP_BUDGET)
                    return None
                remaining = self.deadline_at - self.loop.time()
                if remaining <= 0:
                    self._skip(question, server, zone, tcp, SKIP_DEADLINE)
                    return None
                self.sent += 1
                record = self._record(question, server, zone, role, tcp)
                if prober:
                    health.first = record.id
                timeout = (
                    self.settings.resolver_timeout
                    if role is Role.RESOLVER
                    else self.settings.timeout
                )
                cut_short = remaining < timeout
                self.progress("sent", server.label())
                reply = await self._exchange(question, server, tcp, min(timeout, remaining))
                self.progress("done", server.label())
                record.response = reply.response or None
                if record.response and self.answers is not None:
                    self.answers(record.response)
                record.error = reply.error
                record.duration = reply.duration
                record.transport = reply.transport
                record.arrived = self.loop.time()
                if reply.response is not None and not reply.response and reply.error is None:
                    record.error = "empty response"
                if reply.discarded:
                    self.notes.append(
                        f"{reply.discarded} datagram(s) from or for {server.label()} discarded "
                        f"while waiting for the reply to {question.qname} "
                        f"{dns.rdatatype.to_text(question.rdtype)} (wrong source, ID or question)"
                    )
                if cut_short and record.error == "timeout":
                    # The deadline, not the server, ended this wait: not a dead server.
                    record.error = DEADLINE_CUT
                    self.deadline_hit = True
                elif gated and record.response is None and not health.answered:
                    health.dead = health.dead or record.error or "no response"
                    # A DS question's zone is the child, asked of the parent's servers.
                    if (
                        prober
                        and not tcp
                        and zone is not None
                        and question.purpose is not Purpose.DS
                    ):
                        # Silent over UDP: ask it over TCP at once, whatever its zone (it
                        # may answer there only), not a timeout later at the walk's end.
                        self._probe_transports(zone, (server,), only_tcp=True)
                if gated and record.response is not None:
                    health.answered = True
                return record
        finally:
            if prober:
                health.settled.set()

    async def _exchange(
        self, question: Question, server: Server, tcp: bool, timeout: float
    ) -> Reply:
        used = snapshot.Transport.TCP if tcp else snapshot.Transport.UDP
        try:
            query = plan.make_query(question)
            return await self.transport.exchange(query, server, tcp=tcp, timeout=timeout)
        except Exception as error:  # a transport must not raise; if one does, it is data
            return Reply(None, f"transport error: {_describe(error)}", None, used)

    def _record(
        self,
        question: Question,
        server: Server,
        zone: dns.name.Name | None,
        role: Role,
        tcp: bool,
    ) -> _Record:
        purpose = question.purpose
        key = (
            None if zone is None else zone.to_text(),
            question.qname.to_text(),
            dns.rdatatype.to_text(question.rdtype),
        )
        if purpose is Purpose.REFERRAL and key in self.answer_questions:
            purpose = Purpose.ANSWER  # a TCP retry after the walk ended here
        record = _Record(
            id=len(self.records) + 1,
            role=role,
            purpose=purpose,
            zone=None if zone is None else zone.to_text(),
            server=server,
            qname=question.qname.to_text(),
            qtype=dns.rdatatype.to_text(question.rdtype),
            rd=question.rd,
            cd=question.cd,
            do=question.do,
            transport=snapshot.Transport.TCP if tcp else snapshot.Transport.UDP,
            sent_at=self.clock(),
            after=_WAITED_ON.get(),
        )
        self.records.append(record)
        return record

    def _waited_for(self, record_id: int | None) -> None:
        """This line of work has also waited for ``record_id``'s answer: remember whichever
        of it and the one already noted came last."""
        current = _WAITED_ON.get()
        if record_id is None or record_id == current:
            return
        if current is None or self._arrival(record_id) >= self._arrival(current):
            _WAITED_ON.set(record_id)

    def _arrival(self, record_id: int) -> float:
        return self.records[record_id - 1].arrived

    def _start(
        self, awaitables: Sequence[Awaitable[_T]]
    ) -> list[asyncio.Task[tuple[_T, int | None]]]:
        """Start ``awaitables`` now, in this order, each noting what it waited for last."""

        async def tracked(awaitable: Awaitable[_T]) -> tuple[_T, int | None]:
            return await awaitable, _WAITED_ON.get()

        return [asyncio.ensure_future(tracked(a)) for a in awaitables]

    async def _join(self, tasks: list[asyncio.Task[tuple[_T, int | None]]]) -> list[_T]:
        """Their results; afterwards this line of work has waited for the answer that
        came last among those each of them waited for."""
        results = await asyncio.gather(*tasks)
        for _, waited in results:
            self._waited_for(waited)
        return [result for result, _ in results]

    async def _gather(self, awaitables: Sequence[Awaitable[_T]]) -> list[_T]:
        return await self._join(self._start(awaitables))

    def _skip(
        self,
        question: Question,
        server: Server,
        zone: dns.name.Name | None,
        tcp: bool,
        reason: str,
    ) -> None:
        self.skipped.append(
            {
                "reason": reason,
                "purpose": question.purpose.value,
                "zone": None if zone is None else zone.to_text(),
                "server": {"name": server.name, "address": server.address},
                "qname": question.qname.to_text(),
                "qtype": dns.rdatatype.to_text(question.rdtype),
                "transport": "tcp" if tcp else "udp",
            }
        )

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task = asyncio.ensure_future(self._guarded(coroutine))
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def _guarded(self, coroutine: Coroutine[Any, Any, object]) -> None:
        try:
            await coroutine
        except Exception as error:  # a probe bug must not lose what was collected
            self.notes.append(f"probe error: {_describe(error)}")

    # --- the result ------------------------------------------------------------------

    def _snapshot(
        self,
        qname: dns.name.Name,
        qtype: dns.rdatatype.RdataType,
        targets: list[tuple[dns.name.Name, dns.rdatatype.RdataType]],
        collected_at: float,
    ) -> Snapshot:
        return Snapshot(
            name=qname.to_text(),
            rdtype=dns.rdatatype.to_text(qtype),
            collected_at=collected_at,
            finished_at=self.clock(),
            trust_anchors=self.settings.trust_anchors,
            zones=tuple(self.cuts.values()),
            exchanges=tuple(record.freeze() for record in self.records),
            resolvers=self.settings.resolvers,
            targets=tuple((n.to_text(), dns.rdatatype.to_text(t)) for n, t in targets),
            notes=tuple(dict.fromkeys(self.notes + self._skip_notes())),
            tool=TOOL,
            extra={
                "queries_sent": self.sent,
                "skipped": list(self.skipped),
                "limits": {
                    "timeout": self.settings.timeout,
                    "resolver_timeout": self.settings.resolver_timeout,
                    "deadline": self.settings.deadline,
                    "max_queries": self.settings.max_queries,
                    "address_policy": self.settings.address_policy.value,
                },
            },
        )

    def _skip_notes(self) -> list[str]:
        """One line per dead server and per exhausted limit, not one per question."""
        notes: list[str] = []
        dead: dict[tuple[str, str | None, str], int] = {}
        other: dict[str, int] = {}
        for skipped in self.skipped:
            if skipped["reason"] == SKIP_DEAD:
                server = skipped["server"]
                key = (server["address"], server["name"], skipped["transport"])
                dead[key] = dead.get(key, 0) + 1
            else:
                other[skipped["reason"]] = other.get(skipped["reason"], 0) + 1
        for (address, name, used), count in dead.items():
            health = self.health.get((_normal(address), used == "tcp"))
            error = health.dead if health is not None else None
            notes.append(
                f"{Server(address, name).label()} unresponsive over {used.upper()} "
                f"({error or 'no response'}): {count} later question(s) not sent"
            )
        if self.deadline_hit and SKIP_DEADLINE not in other:
            notes.append(
                f"{SKIP_DEADLINE} ({self.settings.deadline:g} s): "
                "queries still waiting were cut short"
            )
        for reason, count in other.items():
            limit = (
                f"{self.settings.max_queries} queries"
                if reason == SKIP_BUDGET
                else f"{self.settings.deadline:g} s"
            )
            notes.append(f"{reason} ({limit}): {count} question(s) not sent")
        return notes


def _normal(address: str) -> str:
    try:
        return normal_address(address)
    except ValueError:
        return address


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
