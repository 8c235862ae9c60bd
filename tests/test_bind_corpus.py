"""BIND's own named-checkzone corpus (``bin/tests/system/checkzone/zones/`` of Debian's
bind9 source, fetched by ``scripts/fetch-conformance`` from ``scripts/bootstrap``), judged
by zone verify. The file names give BIND's verdict: ``good-*`` and ``warn.*`` load,
``bad*`` are refused (named-checkzone exits 1).

What "judged as BIND does" means here: named-checkzone checks that a server can load the
zone, not its DNSSEC; most of these zones are unsigned. zone verify agrees when it refuses
the file (an input error, exit 4, or an invalid zone, exit 2) exactly where BIND refuses
it, and otherwise judges it valid (exit 0 or 1). On an unsigned zone, zone verify's
verdict is that load verdict (the ZONE_* checks, the reader), as DNSSEC checks have nothing
to judge. Every file where the verdicts differ is listed in
``tests/data/bind_corpus_differences.txt`` with its reason; the test fails on any other
difference, and on a listed one that no longer differs."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from dnssec_doctor.analysis.codes import Family, lookup
from dnssec_doctor.model.finding import Severity
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.verify.command import verify_zone
from dnssec_doctor.zonefile.reader import ZoneFileError

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "conformance" / "bind9"
ZONES = CACHE / "checkzone" / "zones"
DIFFERENCES = Path(__file__).parent / "data" / "bind_corpus_differences.txt"
# tests.sh checks these under the reverse zone 0.0.0.0.in-addr.arpa, the rest as "example"
REVERSE = {"good-dns-sd-reverse.db", "bad-dns-sd-reverse.db", "bad-svcb-servername.db"}


def bind_refuses(name: str) -> bool:
    return name.startswith("bad")


def corpus() -> list[Path]:
    if not ZONES.is_dir():
        pytest.fail(f"BIND's zones are not in {ZONES}: run scripts/bootstrap (as root)")
    return sorted(
        path for pattern in ("good*.db", "bad*.db", "warn.*.db") for path in ZONES.glob(pattern)
    )


def refused_by_zone_verify(path: Path) -> tuple[bool, str]:
    origin = "0.0.0.0.in-addr.arpa" if path.name in REVERSE else "example"
    try:
        result = verify_zone(
            path,
            path.name,
            origin=origin,
            options=AnalysisOptions(now=time.time()),
            ds=[],
            jobs=1,
        )
    except ZoneFileError as error:
        return True, f"input error: {error}"
    errors = sorted({f.code for f in result.findings if f.severity.name == "ERROR"})
    return result.exit_code == 2, f"exit {result.exit_code} {' '.join(errors)}".strip()


def known_differences(corpus: str) -> dict[str, str]:
    """``corpus``'s entries in the differences file ("checkzone/FILE REASON")."""
    known = {}
    for line in DIFFERENCES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, reason = line.split(None, 1)
            where, _, name = name.partition("/")
            if where == corpus:
                known[name] = reason
    return known


def compare(differing: dict[str, str], corpus: str) -> None:
    known = known_differences(corpus)
    new = {name: how for name, how in differing.items() if name not in known}
    stale = sorted(set(known) - set(differing))
    assert not new, f"differences from BIND not in {DIFFERENCES.name}: {new}"
    assert not stale, f"listed in {DIFFERENCES.name} but judged as BIND does now: {stale}"


def test_zone_verify_judges_bind_checkzone_corpus_as_bind_does() -> None:
    zones = corpus()
    assert len(zones) > 100
    differing = {}
    for path in zones:
        refused, how = refused_by_zone_verify(path)
        if refused != bind_refuses(path.name):
            differing[path.name] = how
    compare(differing, "checkzone")
    print(f"BIND checkzone corpus: {len(zones) - len(differing)} of {len(zones)} as BIND")


# --- dnssec-verify's corpus: bin/tests/system/verify/zones/genzones.sh ----------------------

UNSIGNED = CACHE / "verify" / "zones" / "unsigned.db"
EXPIRED = ("-s", "-2678400")  # genzones.sh: signatures that started and ended a month ago


@dataclass(frozen=True)
class Generated:
    """One zone of genzones.sh, made as it makes it: key flags, dnssec-signzone options,
    lines added to the unsigned zone, whether the keys are only published (unsigned)."""

    name: str
    good: bool
    keys: tuple[str, ...]  # "zsk", "ksk"
    options: tuple[str, ...] = ()
    extra: str = ""
    keys_only: bool = False
    # The zones genzones.sh signs twice: (ZSK and KSK key basenames, the file) -> None
    steps: Callable[[Path, str, str, Path], None] | None = None


def sign(directory: Path, *arguments: str) -> None:
    subprocess.run(["dnssec-signzone", *arguments], cwd=directory, capture_output=True, check=True)


def ksk_expired(nsec3: bool) -> Callable[[Path, str, str, Path], None]:
    """Signed by the ZSK, then the DNSKEY RRset by a KSK signature that has expired."""
    denial = ("-3", "-") if nsec3 else ()

    def steps(directory: Path, zsk: str, ksk: str, file: Path) -> None:
        zone = file.stem
        sign(directory, *denial, "-Px", "-o", zone, "-f", file.name, file.name, zsk)
        sign(directory, *denial, *EXPIRED, "-P", "-O", "full", "-o", zone, "-f", file.name,
             file.name, ksk)  # fmt: skip

    return steps


def tampered(rewrite: Callable[[str, str], str]) -> Callable[[Path, str, str, Path], None]:
    """Signed by the KSK, NSEC records tampered with, then signed by the ZSK leaving the
    denial records as they are (-Z nonsecify), as genzones.sh's broken zones are."""

    def steps(directory: Path, zsk: str, ksk: str, file: Path) -> None:
        zone = file.stem
        sign(directory, "-P", "-O", "full", "-o", zone, "-f", file.name, file.name, ksk)
        file.write_text(rewrite(file.read_text(), zone))
        sign(directory, "-Px", "-Z", "nonsecify", "-O", "full", "-o", zone, "-f", file.name,
             file.name, zsk)  # fmt: skip

    return steps


def tampered_nsec3(rewrite: Callable[[str, str], str]) -> Callable[[Path, str, str, Path], None]:
    """As ``tampered``, with an NSEC3 chain (``-3 -``)."""

    def steps(directory: Path, zsk: str, ksk: str, file: Path) -> None:
        zone = file.stem
        sign(directory, "-3", "-", "-P", "-O", "full", "-o", zone, "-f", file.name, file.name,
             ksk)  # fmt: skip
        file.write_text(rewrite(file.read_text(), zone))
        sign(directory, "-3", "-", "-Px", "-Z", "nonsecify", "-O", "full", "-o", zone, "-f",
             file.name, file.name, zsk)  # fmt: skip

    return steps


def below_bottom_of_zone(directory: Path, zsk: str, ksk: str, file: Path) -> None:
    """An NSEC at a name below a delegation (glue), which dnssec-signzone then signs:
    genzones.sh removes the glue's other signatures and keeps the NSEC's."""
    zone = file.stem
    sign(directory, "-P", "-O", "full", "-o", zone, "-f", file.name, file.name, ksk)
    file.write_text(f"{file.read_text()}ns.sub.{zone}. 3600 IN NSEC {zone}. A AAAA\n")
    sign(directory, "-Px", "-Z", "nonsecify", "-O", "full", "-o", zone, "-f", file.name,
         file.name, zsk)  # fmt: skip
    kept = []
    for line in file.read_text().splitlines():
        fields = line.split()
        glue_signature = (
            fields[:1] and fields[0].startswith("ns.sub") and fields[3:4] == ["RRSIG"]
            and fields[4:5] != ["NSEC"]
        )  # fmt: skip
        if not glue_signature:
            kept.append(line)
    file.write_text("\n".join(kept) + "\n")


def without_empty_nsec3(text: str, zone: str) -> str:
    """The NSEC3 of the empty non-terminal (no types: 9 fields) taken out of the chain:
    its predecessor points past it, as genzones.sh's awk does."""
    lines = [line.split() for line in text.splitlines()]
    [empty] = [f for f in lines if f[3:4] == ["NSEC3"] and len(f) == 9]
    label, following = empty[0].split(".")[0], empty[8]
    out = []
    for fields in lines:
        if fields[3:4] == ["NSEC3"] and len(fields) == 9:
            continue
        if fields[3:4] == ["NSEC3"] and fields[8:9] == [label]:
            fields = [*fields[:8], following, *fields[9:]]
        out.append(" ".join(fields))
    return "\n".join(out) + "\n"


def with_extra_nsec3(text: str, zone: str) -> str:
    """A copy of the empty non-terminal's NSEC3 at a hash that no name has."""
    extra = [
        " ".join(
            [
                f"H9P7U7TR2U91D0V0LJS9L1GIDNP90U3H.{zone}.",
                *f[1:8],
                "H9P7U7TR2U91D0V0LJS9L1GIDNP90U3I",
            ]
        )
        for f in (line.split() for line in text.splitlines())
        if f[3:4] == ["NSEC3"] and len(f) == 9
    ]
    return text + "".join(f"{line}\n" for line in extra)


def case_mismatch(directory: Path, zsk: str, ksk: str, file: Path) -> None:
    """An NSEC whose next name is FOO, then the FOO records written foo: names compare
    without case (RFC 4034 §6.1), so the zone stays valid."""
    zone = file.stem
    source = directory / f"{zone}.tmp"
    source.write_text(
        "$TTL 0\n@ IN SOA foo . ( 1 28800 7200 604800 1800 )\n@ NS foo\n"
        f"$include {ksk}.key\n$include {zsk}.key\n"
        "FOO AAAA ::1\nFOO A 127.0.0.2\naba CNAME FOO\n"
    )
    signed = directory / f"{file.name}.tmp"
    sign(directory, "-zP", "-o", zone, "-f", signed.name, source.name)
    file.write_text(
        "".join(
            "foo." + line[4:] if line.startswith("FOO.") else line
            for line in signed.read_text().splitlines(keepends=True)
        )
    )


def nsec_lines(text: str, change: Callable[[list[str]], list[str] | None]) -> str:
    """Each NSEC record line preceded by ``change`` of its fields (when not None)."""
    out = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) > 4 and fields[3] == "NSEC" and (changed := change(fields)) is not None:
            out.append(" ".join(changed))
        out.append(line)
    return "\n".join(out) + "\n"


def next_is_apex(fields: list[str], zone: str) -> list[str]:
    return [*fields[:4], f"{zone}.", *fields[5:]]


def without_first_type(fields: list[str]) -> list[str] | None:
    return [*fields[:5], *fields[6:]] if "SOA" in fields else None


GENERATED = [
    Generated("zsk-only.nsec", True, ("zsk",), ("-SP",)),
    Generated("ksk-only.nsec", True, ("ksk",), ("-SPz",)),
    Generated("ksk+zsk.nsec", True, ("zsk", "ksk"), ("-SPx",)),
    Generated("ksk+zsk.nsec.apex-dname", True, ("zsk", "ksk"), ("-SP",), "@ DNAME data\n"),
    Generated("zsk-only.nsec3", True, ("zsk",), ("-3", "-", "-SP")),
    Generated("ksk-only.nsec3", True, ("ksk",), ("-3", "-", "-SPz")),
    Generated("ksk+zsk.nsec3", True, ("zsk", "ksk"), ("-3", "-", "-SPx")),
    Generated("ksk+zsk.optout", True, ("zsk", "ksk"), ("-3", "-", "-A", "-SPx")),
    Generated(
        "ksk+zsk.nsec3.apex-dname", True, ("zsk", "ksk"), ("-3", "-", "-SP"), "@ DNAME data\n"
    ),
    Generated("unsigned", False, ()),
    Generated("zsk-only.dnskeyonly", False, ("zsk",), keys_only=True),
    Generated("ksk-only.dnskeyonly", False, ("ksk",), keys_only=True),
    Generated("ksk+zsk.dnskeyonly", False, ("zsk", "ksk"), keys_only=True),
    Generated("zsk-only.nsec.expired", False, ("zsk",), ("-SP", *EXPIRED)),
    Generated("ksk-only.nsec.expired", False, ("ksk",), ("-SPz", *EXPIRED)),
    Generated("ksk+zsk.nsec.expired", False, ("zsk", "ksk"), ("-SP", *EXPIRED)),
    Generated("zsk-only.nsec3.expired", False, ("zsk",), ("-3", "-", "-SP", *EXPIRED)),
    Generated("ksk-only.nsec3.expired", False, ("ksk",), ("-3", "-", "-SPz", *EXPIRED)),
    Generated("ksk+zsk.nsec3.expired", False, ("zsk", "ksk"), ("-3", "-", "-SPx", *EXPIRED)),
    Generated("ksk+zsk.nsec.ksk-expired", False, ("zsk", "ksk"), steps=ksk_expired(False)),
    Generated("ksk+zsk.nsec3.ksk-expired", False, ("zsk", "ksk"), steps=ksk_expired(True)),
    Generated(
        "ksk+zsk.nsec.broken-chain",
        False,
        ("zsk", "ksk"),
        steps=tampered(lambda text, zone: nsec_lines(text, lambda f: next_is_apex(f, zone))),
    ),
    Generated(
        "ksk+zsk.nsec.bad-bitmap",
        False,
        ("zsk", "ksk"),
        steps=tampered(lambda text, zone: nsec_lines(text, without_first_type)),
    ),
    Generated(
        "ksk+zsk.nsec.out-of-zone-nsec",
        False,
        ("zsk", "ksk"),
        steps=tampered(lambda text, zone: f"{text}out-of-zone. 3600 IN NSEC {zone}. A\n"),
    ),
    Generated(
        "ksk+zsk.nsec.below-dname-nsec",
        False,
        ("zsk", "ksk"),
        steps=tampered(lambda text, zone: f"{text}sub.dname.{zone}. 3600 IN NSEC {zone}. TXT\n"),
    ),
    Generated("nsec-next-name-case-mismatch", True, ("zsk", "ksk"), steps=case_mismatch),
    Generated(
        "ksk+zsk.nsec.below-bottom-of-zone-nsec", False, ("zsk", "ksk"), steps=below_bottom_of_zone
    ),
    Generated(
        "ksk+zsk.nsec3.missing-empty",
        False,
        ("zsk", "ksk"),
        steps=tampered_nsec3(without_empty_nsec3),
    ),
    Generated(
        "ksk+zsk.nsec3.extra-nsec3", False, ("zsk", "ksk"), steps=tampered_nsec3(with_extra_nsec3)
    ),
]


def generate(zone: Generated, directory: Path) -> Path:
    """The zone file genzones.sh writes for ``zone`` (Debian's dnssec-keygen and
    dnssec-signzone, ECDSAP256SHA256 as BIND's system tests default to)."""
    directory.mkdir()
    source = directory / "unsigned.db"
    source.write_text(UNSIGNED.read_text() + zone.extra)
    key_files, bases = [], {}
    for kind in zone.keys:
        flags = ("-f", "KSK") if kind == "ksk" else ()
        made = subprocess.run(
            ["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", *flags, zone.name],
            cwd=directory,
            capture_output=True,
            text=True,
            check=True,
        )
        bases[kind] = made.stdout.strip()
        key_files.append(directory / f"{bases[kind]}.key")
    output = directory / f"{zone.name}.{'good' if zone.good else 'bad'}"
    if zone.steps is not None:  # the unsigned zone and both keys, then the script's steps
        output.write_text(source.read_text() + "".join(k.read_text() for k in key_files))
        zone.steps(directory, bases["zsk"], bases["ksk"], output)
        return output
    if not zone.keys or zone.keys_only:
        output.write_text(source.read_text() + "".join(k.read_text() for k in key_files))
        return output
    subprocess.run(
        ["dnssec-signzone", *zone.options, "-o", zone.name, "-f", output.name, source.name],
        cwd=directory,
        capture_output=True,
        check=True,
    )
    return output


def dnssec_errors(path: Path, origin: str) -> list[str]:
    """zone verify's DNSSEC verdict: its errors, but for what servers refuse to load
    (the zone family): dnssec-verify judges signatures and the denial chain only, and
    unsigned.db holds out-of-zone and occluded data on purpose."""
    result = verify_zone(
        path, path.name, origin=origin, options=AnalysisOptions(now=time.time()), ds=[], jobs=1
    )
    return sorted(
        {
            f.code
            for f in result.findings
            if f.severity is Severity.ERROR and lookup(f.code).family is not Family.ZONE
        }
    )


def test_zone_verify_judges_bind_verify_corpus_as_dnssec_verify_does(tmp_path: Path) -> None:
    if not UNSIGNED.is_file():
        pytest.fail(f"BIND's zones are not in {UNSIGNED.parent}: run scripts/bootstrap (as root)")
    differing = {}
    for zone in GENERATED:
        errors = dnssec_errors(generate(zone, tmp_path / zone.name), zone.name)
        if bool(errors) == zone.good:
            differing[zone.name] = " ".join(errors) or "no DNSSEC error"
    compare(differing, "verify")
    agreed = len(GENERATED) - len(differing)
    print(f"BIND verify corpus: {agreed} of {len(GENERATED)} as dnssec-verify")
