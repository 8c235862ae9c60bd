"""Reading a replay scenario: Unbound's testbound format (``testcode/replay.h``), as
Deckard also writes it.

A scenario is a configuration (unbound.conf lines inside ``server:``/``stub-zone:``
blocks, or at top level as Deckard writes them) up to ``CONFIG_END``, then between
``SCENARIO_BEGIN`` and ``SCENARIO_END``: ranges of steps during which simulated servers
(``ADDRESS``) answer from their entries, and the steps themselves (``QUERY``,
``CHECK_ANSWER``, ...). Entries are testpkts entries (``testcode/testpkts.h``): ``MATCH``,
``REPLY`` and ``ADJUST`` lines and the sections of the packet, records in zone-file form.

Pure: text in, frozen values out. A malformed file is a ``ReplayFormatError`` naming the
file and the line, never a traceback.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.zonefile

from dnssec_doctor.errors import UsageError

SECTIONS = ("QUESTION", "ANSWER", "AUTHORITY", "ADDITIONAL")
DEFAULT_TTL = 3600  # testpkts' default when a record gives none
MAX_FILE_BYTES = 16 * 1024 * 1024

# The configuration options that change what a validator concludes and that a replay of
# the scenario does not reproduce: named in the output, never silently ignored.
UNMODELLED_OPTIONS = frozenset(
    {
        "forward-zone",
        "domain-insecure",
        "harden-algo-downgrade",
        "aggressive-nsec",
        "harden-dnssec-stripped",
        "harden-referral-path",
        "trust-anchor-file",
        "auto-trust-anchor-file",
        "val-permissive-mode",
    }
)


class ReplayFormatError(UsageError):
    """A replay file that cannot be read: the file, the line and what is wrong."""


@dataclass(frozen=True)
class Entry:
    """One testpkts entry: how it matches a query and the packet it answers with."""

    line: int
    match: frozenset[str]  # opcode qtype qname subdomain all TCP UDP DO noedns ...
    ede: int | None  # MATCH ede=N: the Extended DNS Error the answer must carry
    flags: frozenset[str]  # REPLY flags: QR AA TC RD CD RA AD DO
    rcode: str  # REPLY rcode, NOERROR unless given
    opcode: str  # REPLY opcode, QUERY unless given
    adjust: frozenset[str]  # copy_id copy_query ...
    question: tuple[dns.name.Name, int, int] | None  # name, type, class
    answer: tuple[dns.rrset.RRset, ...] = ()
    authority: tuple[dns.rrset.RRset, ...] = ()
    additional: tuple[dns.rrset.RRset, ...] = ()
    raw: bytes | None = None  # HEX_ANSWER: the packet as given


@dataclass(frozen=True)
class Range:
    """Steps ``start``..``end`` during which the servers at ``addresses`` (any address
    when empty) answer from ``entries``, first match first."""

    start: int
    end: int
    addresses: tuple[str, ...]
    entries: tuple[Entry, ...]
    line: int


@dataclass(frozen=True)
class Step:
    number: int
    kind: str  # QUERY, CHECK_ANSWER, TIME_PASSES, ...
    entry: Entry | None
    line: int
    argument: str = ""  # the rest of the STEP line (TIME_PASSES ELAPSE 10, ...)


@dataclass(frozen=True)
class Scenario:
    path: str
    title: str
    options: tuple[tuple[str, str, str], ...]  # (block, key, value) in file order
    ranges: tuple[Range, ...]
    steps: tuple[Step, ...]
    trust_anchors: tuple[str, ...] = ()  # zone-file lines (DS or DNSKEY)
    override_date: float | None = None  # val-override-date: when signatures are judged
    root_addresses: tuple[str, ...] = ()  # stub-zone "." (or a top-level stub-addr)
    stubs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # other stub zones

    @property
    def nsec3_iteration_limit(self) -> int | None:
        """The NSEC3 iteration cap of ``val-nsec3-keysize-iterations`` ("1024 100 2048 200
        ..."): Unbound caps by key size; the cap given for the smallest key size is taken
        (the scenarios' keys are 1024-bit DSA and RSA). None: the option is not given."""
        for _, key, value in self.options:
            if key == "val-nsec3-keysize-iterations":
                numbers = value.split()
                if len(numbers) >= 2 and numbers[1].isdigit():
                    return int(numbers[1])
        return None

    @property
    def unmodelled(self) -> tuple[str, ...]:
        """Configuration this replay does not reproduce (stub zones below the root, ...)."""
        found = [key for block, key, _ in self.options if key in UNMODELLED_OPTIONS]
        found += [block for block, _, _ in self.options if block in UNMODELLED_OPTIONS]
        found += [f"stub-zone {name}" for name in self.stubs]
        if ("server", "val-override-date", "-1") in self.options or any(
            key == "val-override-date" and value == "-1" for _, key, value in self.options
        ):
            found.append("val-override-date -1 (signature dates not checked)")
        return tuple(dict.fromkeys(found))


def read_scenario(path: Path) -> Scenario:
    """Read and parse a replay file; a ``ReplayFormatError`` for anything malformed."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ReplayFormatError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB")
        text = path.read_text(encoding="utf-8", errors="strict")
    except UnicodeError:
        raise ReplayFormatError(f"{path}: not a replay file (not UTF-8 text)") from None
    except OSError as error:
        raise ReplayFormatError(f"cannot read {path}: {error.strerror or error}") from None
    return parse_scenario(text, str(path))


def parse_scenario(text: str, path: str = "<replay>") -> Scenario:
    return _Parser(text, path).scenario()


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.lines = text.splitlines()
        self.path = path
        self.index = 0  # the next line to read

    def fail(self, message: str, line: int | None = None) -> ReplayFormatError:
        return ReplayFormatError(f"{self.path}:{line or self.index}: {message}")

    def next_line(self) -> tuple[int, str] | None:
        while self.index < len(self.lines):
            self.index += 1
            raw = self.lines[self.index - 1]
            content = raw.split(";", 1)[0].strip()
            if content:
                return self.index, content
        return None

    # --- the whole file -----------------------------------------------------------------

    def scenario(self) -> Scenario:
        options = self.config()
        title = ""
        ranges: list[Range] = []
        steps: list[Step] = []
        began = False
        while (item := self.next_line()) is not None:
            number, line = item
            word, _, rest = line.partition(" ")
            if word == "SCENARIO_BEGIN":
                began = True
                title = rest.strip()
            elif word == "SCENARIO_END":
                break
            elif not began:
                raise self.fail(f"expected SCENARIO_BEGIN, found {line[:40]!r}")
            elif word == "RANGE_BEGIN":
                ranges.append(self.range(number, rest))
            elif word == "STEP":
                steps.append(self.step(number, rest))
            else:
                raise self.fail(f"unexpected {word[:40]!r} in the scenario")
        else:
            if not began:
                raise self.fail("no SCENARIO_BEGIN: not a replay file", 1)
            raise self.fail("no SCENARIO_END: the file is cut short")
        return self.build(title, options, ranges, steps)

    def build(
        self,
        title: str,
        options: list[tuple[str, str, str, int]],
        ranges: list[Range],
        steps: list[Step],
    ) -> Scenario:
        anchors: list[str] = []
        override: float | None = None
        stubs: dict[str, list[str]] = {}
        stub_name: str | None = None
        for block, key, value, line in options:
            if block == "stub-zone" and key == "name":
                stub_name = _name_text(value, self, line)
                stubs.setdefault(stub_name, [])
            elif key == "stub-addr":
                # Deckard writes stub-addr at top level: the root's servers.
                zone = stub_name if block == "stub-zone" and stub_name else "."
                stubs.setdefault(zone, []).append(_address(value, self, line))
            elif key == "trust-anchor":
                anchors.append(_anchor(value, self, line))
            elif key == "val-override-date" and value != "-1":  # -1: dates not checked
                override = _override_date(value, self, line)
        root = tuple(stubs.pop(".", []))
        return Scenario(
            path=self.path,
            title=title,
            options=tuple((b, k, v) for b, k, v, _ in options),
            ranges=tuple(ranges),
            steps=tuple(steps),
            trust_anchors=tuple(anchors),
            override_date=override,
            root_addresses=root,
            stubs={name: tuple(found) for name, found in stubs.items()},
        )

    def config(self) -> list[tuple[str, str, str, int]]:
        """The lines up to CONFIG_END as (block, key, value, line)."""
        options: list[tuple[str, str, str, int]] = []
        block = ""
        skipping: str | None = None  # the END word of an inline file being skipped
        while self.index < len(self.lines):
            self.index += 1
            raw = self.lines[self.index - 1]
            stripped = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith(";") else ""
            if skipping:
                if stripped.startswith(skipping):
                    skipping = None
                continue
            if not stripped:
                continue
            if stripped == "CONFIG_END":
                return options
            word = stripped.split(None, 1)[0]
            if word in ("AUTOTRUST_FILE", "TEMPFILE_CONTENTS"):
                skipping = "AUTOTRUST_END" if word == "AUTOTRUST_FILE" else "TEMPFILE_END"
                continue
            if word in ("COMMANDLINE", "TEMPFILE_NAME"):
                continue
            if word == "SCENARIO_BEGIN":
                # Deckard files may have no CONFIG_END: the scenario starts right away.
                self.index -= 1
                return options
            key, colon, value = stripped.partition(":")
            if not colon:
                raise self.fail(f"expected 'option: value' or CONFIG_END, found {stripped[:40]!r}")
            key = key.strip()
            value = value.strip()
            if not value and not raw[:1].isspace():
                block = key  # server:, stub-zone:, forward-zone:, ...
                continue
            if not raw[:1].isspace() and key not in ("name", "stub-addr", "forward-addr"):
                block = ""  # a top-level option (Deckard style) closes any block
            options.append((block, key, _unquote(value), self.index))
        raise self.fail("no CONFIG_END and no SCENARIO_BEGIN: not a replay file", 1)

    # --- ranges and steps -----------------------------------------------------------------

    def range(self, number: int, rest: str) -> Range:
        bounds = rest.split()
        if len(bounds) < 2 or not all(_is_int(b) for b in bounds[:2]):
            raise self.fail("RANGE_BEGIN needs two step numbers", number)
        addresses: list[str] = []
        entries: list[Entry] = []
        while (item := self.next_line()) is not None:
            line_number, line = item
            word, _, tail = line.partition(" ")
            if word == "RANGE_END":
                return Range(
                    int(bounds[0]), int(bounds[1]), tuple(addresses), tuple(entries), number
                )
            if word == "ADDRESS":
                addresses.append(_address(tail.strip(), self, line_number))
            elif word.startswith("ENTRY_BEGIN"):  # testbound reads keywords by prefix
                entries.append(self.entry(line_number))
            else:
                raise self.fail(f"unexpected {word[:40]!r} in a range")
        raise self.fail(f"the range begun on line {number} has no RANGE_END")

    def step(self, number: int, rest: str) -> Step:
        fields = rest.split()
        if len(fields) < 2 or not _is_int(fields[0]):
            raise self.fail("STEP needs a number and an event", number)
        kind = fields[1]
        entry = None
        if kind in ("QUERY", "CHECK_ANSWER", "CHECK_OUT_QUERY", "REPLY"):
            item = self.next_line()
            if item is None or item[1] != "ENTRY_BEGIN":
                raise self.fail(f"STEP {fields[0]} {kind} must be followed by ENTRY_BEGIN", number)
            entry = self.entry(item[0])
        elif kind in ("CHECK_AUTOTRUST", "CHECK_TEMPFILE"):
            self.skip_until("FILE_END")
        return Step(int(fields[0]), kind, entry, number, " ".join(fields[2:]))

    def skip_until(self, word: str) -> None:
        while (item := self.next_line()) is not None:
            if item[1].startswith(word):
                return
        raise self.fail(f"no {word}")

    # --- entries ------------------------------------------------------------------------

    def entry(self, begun: int) -> Entry:
        match: set[str] = set()
        ede: int | None = None
        flags: set[str] = set()
        rcode = "NOERROR"
        opcode = "QUERY"
        adjust: set[str] = set()
        section: str | None = None
        records: dict[str, list[tuple[int, str]]] = {s: [] for s in SECTIONS}
        raw: bytes | None = None
        while self.index < len(self.lines):
            self.index += 1
            number = self.index
            original = self.lines[number - 1]
            line = original.split(";", 1)[0].strip()
            if not line:
                continue
            word, _, rest = line.partition(" ")
            if word == "ENTRY_END":
                return Entry(
                    line=begun,
                    match=frozenset(match),
                    ede=ede,
                    flags=frozenset(flags),
                    rcode=rcode,
                    opcode=opcode,
                    adjust=frozenset(adjust),
                    question=self.question(records["QUESTION"]),
                    answer=self.records(records["ANSWER"]),
                    authority=self.records(records["AUTHORITY"]),
                    additional=self.records(records["ADDITIONAL"]),
                    raw=raw,
                )
            if word == "MATCH":
                for token in rest.split():
                    if token.startswith("ede="):
                        if token == "ede=any":
                            match.add("ede_any")
                        elif _is_int(token[4:]):
                            ede = int(token[4:])
                        else:
                            raise self.fail(f"bad {token[:20]!r} in MATCH", number)
                    else:
                        match.add(token)
            elif word == "REPLY":
                for token in rest.split():
                    upper = token.upper()
                    if upper in _RCODES:
                        rcode = upper
                    elif upper in _OPCODES:
                        opcode = upper
                    elif upper in _FLAGS:
                        flags.add(upper)
                    else:
                        raise self.fail(f"unknown REPLY word {token[:20]!r}", number)
            elif word == "ADJUST":
                adjust.update(rest.split())
            elif word == "SECTION":
                section = rest.strip().upper()
                if section not in SECTIONS:
                    raise self.fail(f"unknown section {rest.strip()[:20]!r}", number)
            elif word == "HEX_ANSWER_BEGIN":
                raw = self.hex_block("HEX_ANSWER_END")
            elif word == "HEX_EDNS_BEGIN":
                self.hex_block("HEX_EDNS_END")
            elif word == "EXTRA_PACKET":
                section = None  # later packets of a TCP stream: not replayed
            elif word in ("ENTRY_BEGIN", "RANGE_END", "STEP", "SCENARIO_END"):
                raise self.fail(f"the entry begun on line {begun} has no ENTRY_END", number)
            elif section is not None:
                records[section].append((number, original))
            elif line.startswith("$"):
                continue
            else:
                raise self.fail(f"unexpected {word[:40]!r} in an entry", number)
        raise self.fail(f"the entry begun on line {begun} has no ENTRY_END")

    def hex_block(self, end: str) -> bytes:
        digits: list[str] = []
        begun = self.index
        while self.index < len(self.lines):
            self.index += 1
            line = self.lines[self.index - 1].split(";", 1)[0].strip()
            if line == end:
                try:
                    return bytes.fromhex("".join(digits))
                except ValueError:
                    raise self.fail("the hex block is not hex digits", begun) from None
            digits.append(line.replace(" ", "").replace("\t", ""))
        raise self.fail(f"no {end}", begun)

    def question(self, lines: list[tuple[int, str]]) -> tuple[dns.name.Name, int, int] | None:
        if not lines:
            return None
        number, text = lines[0]
        fields = text.split(";", 1)[0].split()
        rdclass = dns.rdataclass.IN
        try:
            name = dns.name.from_text(fields[0])
            rest = fields[1:]
            if len(rest) == 2:
                rdclass = dns.rdataclass.from_text(rest[0])
                rest = rest[1:]
            if len(rest) != 1:
                raise ValueError("expected NAME [CLASS] TYPE")
            rdtype = dns.rdatatype.from_text(rest[0])
        except (dns.exception.DNSException, ValueError, IndexError) as error:
            raise self.fail(f"bad question: {error}", number) from None
        return name, int(rdtype), int(rdclass)

    def records(self, lines: list[tuple[int, str]]) -> tuple[dns.rrset.RRset, ...]:
        """The records of a section, in order, grouped into RRsets as a message holds
        them (a packet may hold any records: an SOA of another zone, duplicates)."""
        rrsets: list[dns.rrset.RRset] = []
        for number, text in _joined(lines):
            try:
                rrset = _record(text)
            except (dns.exception.DNSException, ValueError, IndexError) as error:
                raise self.fail(f"bad record: {_clean(error)}", number) from None
            same = next(
                (
                    r
                    for r in rrsets
                    if r.name == rrset.name
                    and r.rdtype == rrset.rdtype
                    and r.covers == rrset.covers
                    and r.rdclass == rrset.rdclass
                ),
                None,
            )
            if same is None:
                rrsets.append(rrset)
            else:
                same.update(rrset)
        return tuple(rrsets)


_RCODES = frozenset(
    {
        "NOERROR",
        "FORMERR",
        "SERVFAIL",
        "NXDOMAIN",
        "NOTIMPL",
        "REFUSED",
        "YXDOMAIN",
        "YXRRSET",
        "NXRRSET",
        "NOTAUTH",
        "NOTZONE",
        "BADVERS",
    }
)
_OPCODES = frozenset({"QUERY", "IQUERY", "STATUS", "NOTIFY", "UPDATE"})
_FLAGS = frozenset({"QR", "AA", "TC", "RD", "CD", "RA", "AD", "DO"})


def _joined(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Records as single lines: comments removed, parenthesised continuations joined."""
    records: list[tuple[int, str]] = []
    pending: list[str] = []
    first = 0
    depth = 0
    for number, line in lines:
        content = line.split(";", 1)[0]
        if not content.strip():
            continue
        if not pending:
            first = number
        pending.append(content.replace("(", " ").replace(")", " "))
        depth += content.count("(") - content.count(")")
        if depth <= 0:
            records.append((first, " ".join(pending)))
            pending = []
            depth = 0
    if pending:
        records.append((first, " ".join(pending)))
    return records


def _record(text: str) -> dns.rrset.RRset:
    """One record in zone-file form; the TTL and class may be left out."""
    fields = text.split()
    name = dns.name.from_text(fields[0])
    index = 1
    ttl = DEFAULT_TTL
    rdclass = dns.rdataclass.IN
    for _ in range(2):
        token = fields[index]
        if token.isdigit():
            ttl = int(token)
            index += 1
        elif token.upper() in ("IN", "CH", "HS", "ANY") or token.upper().startswith("CLASS"):
            rdclass = dns.rdataclass.from_text(token)
            index += 1
    rdtype = dns.rdatatype.from_text(fields[index])
    data = fields[index + 1 :]
    if rdtype == dns.rdatatype.RRSIG and len(data) == 8:
        # An RRSIG with an empty signature: ldns reads it, and scenarios use it for a
        # signature that must fail.
        rdata = dns.rdata.from_text(rdclass, rdtype, " ".join([*data, "AA=="]))
        rdata = rdata.replace(signature=b"")
    else:
        rdata = dns.rdata.from_text(rdclass, rdtype, " ".join(data))
    rrset = dns.rrset.RRset(name, rdclass, rdtype, rdata.covers())
    rrset.add(rdata, ttl)
    return rrset


def _clean(error: Exception) -> str:
    message = str(error)
    if message.startswith("<input>:"):
        message = message.split(":", 2)[-1].strip()
    return message or type(error).__name__


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _is_int(text: str) -> bool:
    return text.lstrip("-").isdigit()


def _name_text(value: str, parser: _Parser, line: int) -> str:
    try:
        return dns.name.from_text(value).to_text()
    except dns.exception.DNSException as error:
        raise parser.fail(f"bad zone name {value[:40]!r}: {error}", line) from None


def _address(value: str, parser: _Parser, line: int) -> str:
    import ipaddress

    address = value.split("@", 1)[0].split("#", 1)[0].strip()
    try:
        return ipaddress.ip_address(address).compressed
    except ValueError:
        raise parser.fail(f"{value[:40]!r} is not an IP address", line) from None


def _anchor(value: str, parser: _Parser, line: int) -> str:
    try:
        rrsets = dns.zonefile.read_rrsets(
            value + "\n",
            origin=dns.name.root,
            relativize=False,
            rdclass=None,
            default_rdclass=dns.rdataclass.IN,
            default_ttl=DEFAULT_TTL,
        )
    except (dns.exception.DNSException, ValueError) as error:
        raise parser.fail(f"bad trust-anchor: {_clean(error)}", line) from None
    if len(rrsets) != 1 or rrsets[0].rdtype not in (dns.rdatatype.DS, dns.rdatatype.DNSKEY):
        raise parser.fail("a trust-anchor must be one DS or DNSKEY record", line)
    return str(rrsets[0].to_text().splitlines()[0])


def _override_date(value: str, parser: _Parser, line: int) -> float:
    """YYYYMMDDhhmmss (UTC) or seconds since the epoch, as Unbound reads it."""
    if len(value) == 14 and value.isdigit():
        try:
            return float(calendar.timegm(time.strptime(value, "%Y%m%d%H%M%S")))
        except ValueError:
            pass
    elif _is_int(value) and int(value) > 0:
        return float(value)
    raise parser.fail(f"bad val-override-date {value[:20]!r}: want YYYYMMDDhhmmss", line)
