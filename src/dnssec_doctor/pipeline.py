"""The service layer: probe, analyze and check as plain functions, and the lab's catalogue.

Every shell calls these — the command line (``commands.py`` and the other ``*/commands.py``
modules, which only parse arguments), the web application, ``watch``, ``change`` and the
tests — so that a check means the same everywhere. Nothing here knows argparse.

Importing this module is cheap: the probe, the analysis and the lab are imported by the
functions that use them, so ``check`` never loads ``verify/``, ``change/``, ``watch/``,
``web/`` or ``lab/`` (tests/test_architecture.py).
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dns.rdataclass
import dns.rdatatype

from dnssec_doctor.errors import ExitCode, UsageError

if TYPE_CHECKING:
    from dnssec_doctor.diagnosis.report import Report
    from dnssec_doctor.lab.profile import LabProfile
    from dnssec_doctor.lab.scenarios import Scenario
    from dnssec_doctor.model.diagnosis import Diagnosis
    from dnssec_doctor.model.finding import Severity
    from dnssec_doctor.model.options import AnalysisOptions
    from dnssec_doctor.model.snapshot import Snapshot
    from dnssec_doctor.probe.settings import ProbeSettings

PUBLIC_RESOLVERS = ("1.1.1.1", "8.8.8.8", "9.9.9.9")
MAX_SECONDS = 3600  # --timeout and --deadline: inf would never return


# --- what the user asks about ---------------------------------------------------------------


def parse_name(text: str) -> str:
    """A domain name from the user, absolute, in presentation form."""
    from dnssec_doctor.probe.plan import parse_name as parse

    return parse(text).to_text()


def parse_type(text: str) -> str:
    """A record type from the user that ``check`` can judge, in presentation form (the
    one parser and its policy: ``probe.plan.parse_rdtype``)."""
    from dnssec_doctor.probe.plan import parse_rdtype

    return dns.rdatatype.to_text(parse_rdtype(text))


# --- where a probe starts and whom it asks ------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """The probe options every command shares (check, probe, serve, watch, go-insecure)."""

    # The running lab's root, anchor and resolvers; loopback and the lab's IPv6 prefix only.
    lab: bool = False
    lab_dir: Path | None = None
    root_hints: Path | None = None
    trust_anchor: Path | None = None
    resolvers: tuple[str, ...] = ()  # none named: the defaults
    no_resolvers: bool = False
    timeout: float = 2.0
    deadline: float = 20.0


def system_resolvers(path: Path = Path("/etc/resolv.conf")) -> list[str]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    return [
        line.split()[1] for line in lines if line.startswith("nameserver") and len(line.split()) > 1
    ]


def data_file(name: str) -> Path:
    """A file shipped in the package's data directory."""
    from importlib import resources  # zipfile, tempfile, ...: not for a --lab check

    return Path(str(resources.files("dnssec_doctor") / "data" / name))


def lab_settings(profile: LabProfile, **overrides: Any) -> ProbeSettings:
    """Probe settings for the running lab: its root, its anchor, its validating resolvers,
    and the lab policy, so nothing can leave 127.0.0.0/8 and the lab's IPv6 prefix (which
    exists only inside a private network namespace); the transport probes as check sends."""
    from dnssec_doctor.probe.settings import (
        AddressPolicy,
        ProbeSettings,
        read_root_hints,
        read_trust_anchors,
    )

    settings = ProbeSettings(
        root_hints=read_root_hints(profile.root_hints),
        trust_anchors=read_trust_anchors(profile.trust_anchor_ds),
        resolvers=tuple(r.address for r in profile.validating_resolvers),
        address_policy=AddressPolicy.LAB,
        transport_probes=True,
    )
    return dataclasses.replace(settings, **overrides)


def probe_settings(sources: Sources, *, transport_probes: bool = False) -> ProbeSettings:
    """The probe's inputs (from the lab profile with ``lab``); ``transport_probes`` for
    check (and probe, serve): not for scan and watch, whose many names would pay for it."""
    from dnssec_doctor.probe.settings import (
        AddressPolicy,
        ProbeSettings,
        read_root_hints,
        read_trust_anchors,
    )

    resolvers: Sequence[str]
    if sources.lab:
        from dnssec_doctor.lab.profile import lab_directory, load_profile

        profile = load_profile(lab_directory(sources.lab_dir))
        root_hints = sources.root_hints or profile.root_hints
        anchor = sources.trust_anchor or profile.trust_anchor_ds
        resolvers = sources.resolvers or [r.address for r in profile.validating_resolvers]
        policy = AddressPolicy.LAB
    else:
        root_hints = sources.root_hints or data_file("named.root")
        anchor = sources.trust_anchor or data_file("root-anchors.ds")
        resolvers = sources.resolvers or list(
            dict.fromkeys([*system_resolvers(), *PUBLIC_RESOLVERS])
        )
        policy = AddressPolicy.ANY
    if sources.no_resolvers:
        resolvers = []
    if not 0 < sources.timeout <= MAX_SECONDS or not 0 < sources.deadline <= MAX_SECONDS:
        raise UsageError(
            f"--timeout and --deadline must be positive and at most {MAX_SECONDS} s",
            hint="a check that is still waiting after an hour never returns in practice",
        )
    return ProbeSettings(
        root_hints=tuple(read_root_hints(Path(root_hints))),
        trust_anchors=tuple(read_trust_anchors(Path(anchor))),
        resolvers=tuple(resolvers),
        timeout=sources.timeout,
        deadline=sources.deadline,
        address_policy=policy,
        transport_probes=transport_probes,
    )


# --- the pipeline ---------------------------------------------------------------------------


def probe(
    name: str,
    rdtype: str,
    settings: ProbeSettings,
    progress: Callable[[str, str], None] | None = None,
    *,
    then_analyze: bool = False,
    answers: Callable[[bytes], None] | None = None,
) -> Snapshot:
    """Collect the snapshot of ``name``/``rdtype``: every response as the bytes received.
    ``then_analyze``: the analysis follows, so it is loaded while the probe waits (in a
    thread: ``probe_in_child`` is the one-shot command's way). ``answers`` is handed each
    response's bytes as it arrives."""
    if _one_shot:
        from dnssec_doctor.features import import_asyncio_without_tls

        import_asyncio_without_tls()
    from dnssec_doctor.probe.collect import collect

    loading = load_analysis_in_background() if then_analyze else None
    try:
        return collect(name, rdtype, settings, progress=progress, answers=answers)
    finally:
        if loading is not None:
            loading.join()


# Set by cli.run for the commands that run once and end (``allow_one_shot``).
_one_shot = False


def allow_one_shot() -> None:
    """This process runs one command and ends (cli.run): its probe imports asyncio without
    ssl (``features.import_asyncio_without_tls``), and a check may probe in a forked child
    while it loads the analysis (``probe_in_child``)."""
    global _one_shot
    _one_shot = True


def probe_in_child(probe: Callable[[Callable[[bytes], None]], Snapshot]) -> Snapshot | None:
    """``probe(answers)`` in a forked child while this process loads the analysis, the two
    on two cores (``probe/forked.py``), then parses the answers the child hands over as
    they come (``answers``: each response's bytes), which the analysis then finds parsed
    (``analysis.wire``): in a one-shot command that may fork. None where it may not, or
    where the fork fails: the caller probes itself."""
    if not _one_shot:
        return None
    from dnssec_doctor.probe import forked

    if not forked.can_fork():
        return None
    _load_walk_rdtypes()  # both processes parse the walk's records: loaded once, before
    return forked.probe_beside(probe, load_analysis, _parse_ahead)


# The record types of a DNSSEC walk: loaded by the thread that probes before the analysis
# is loaded beside it, so that the two threads never import the same module at once.
_WALK_RDTYPES = ("A", "AAAA", "NS", "SOA", "DS", "DNSKEY", "RRSIG", "NSEC", "NSEC3", "CNAME")
# What the analysis of a check loads: the diagnosis (with the analysis and the crypto
# backends it verifies with), the renderers, and cryptography's OpenSSL backend, which
# dnspython asks for (``default_backend()``) at the first signature it verifies.
_ANALYSIS_MODULES = (
    "dnssec_doctor.diagnosis.report",
    "dnssec_doctor.render.text",
    "dnssec_doctor.render.json",
    "cryptography.hazmat.backends.openssl.backend",
)


def load_analysis() -> None:
    """Import what the analysis of a check needs. An import that fails here is left for
    the caller's own import to report."""
    for module in _ANALYSIS_MODULES:
        try:
            importlib.import_module(module)
        except Exception:  # reported by the caller's own import
            return


def _parse_ahead(wire: bytes) -> None:
    """Parse an answer before the analysis asks: it finds the parse by the bytes."""
    from dnssec_doctor.analysis.wire import parse_message

    parse_message(wire)


def _load_walk_rdtypes() -> None:
    import dns.rdata

    for rdtype in _WALK_RDTYPES:
        dns.rdata.get_rdata_class(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype))


def load_analysis_in_background() -> threading.Thread | None:
    """Import the analysis in a thread while the probe waits for answers: about 0.1 s of
    imports that a check would otherwise wait for after its last answer. None where no
    thread can start (a process limit): the analysis then loads when it runs."""
    _load_walk_rdtypes()
    thread = threading.Thread(target=load_analysis, name="load-analysis", daemon=True)
    try:
        thread.start()
    except RuntimeError:  # "can't start new thread"
        return None
    return thread


def analysis_options(
    snapshot: Snapshot,
    *,
    at: float | None = None,
    severities: Mapping[str, Severity] | None = None,
    accepted_algorithms: frozenset[int] = frozenset(),
    expire_warning: float | None = None,
) -> AnalysisOptions:
    """The options of one analysis: judged at ``at`` (default: when the snapshot was
    taken), with the severity profile ``severities`` and the validator profile
    ``accepted_algorithms``."""
    from dnssec_doctor.model.options import AnalysisOptions

    options = AnalysisOptions(
        now=snapshot.finished_at if at is None else at,
        accepted_algorithms=accepted_algorithms,
        severities=dict(severities or {}),
    )
    if expire_warning is not None:
        options = dataclasses.replace(options, expire_warning=expire_warning)
    return options


def analyze(snapshot: Snapshot, options: AnalysisOptions) -> Report:
    """Analyze a snapshot offline and diagnose it: the same result as ``check`` at the
    snapshot's time."""
    from dnssec_doctor.diagnosis.report import build_report

    return build_report(snapshot, options)


def exit_code(diagnosis: Diagnosis) -> ExitCode:
    """What a check exits with: the shell's mapping of the verdict and the warnings
    (the diagnosis itself knows no exit codes)."""
    verdict = diagnosis.verdict.value
    if verdict in ("bogus", "partial"):
        return ExitCode.DNSSEC_FAILURE
    if verdict in ("unreachable", "indeterminate") or diagnosis.name_missing:
        # A name that does not exist is DNS working as meant, but not the healthy answer
        # whoever checks a name expects: broken, not by DNSSEC.
        return ExitCode.NOT_DNSSEC
    return ExitCode.WARNINGS if diagnosis.exit_warning else ExitCode.OK


def check(
    name: str,
    rdtype: str,
    settings: ProbeSettings,
    *,
    at: float | None = None,
    severities: Mapping[str, Severity] | None = None,
    progress: Callable[[str, str], None] | None = None,
) -> Report:
    """``check`` = probe + analyze."""
    snapshot = probe(name, rdtype, settings, progress, then_analyze=True)
    return analyze(snapshot, analysis_options(snapshot, at=at, severities=severities))


# --- files the user hands in ----------------------------------------------------------------


MAX_INPUT_BYTES = 512 * 1024 * 1024  # a snapshot or probe, decompressed


def read_json_document(path: Path) -> Any:
    """A JSON document, plain or gzipped (recognised by its first bytes, not its name)."""
    import gzip
    import zlib

    from dnssec_doctor.files import read_bytes

    # A regular file only (a FIFO would block, /dev/zero never end), within the bound.
    raw = read_bytes(path, "snapshot", MAX_INPUT_BYTES)
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(MAX_INPUT_BYTES + 1)
        except (OSError, EOFError, zlib.error) as error:
            raise UsageError(f"{path} is gzipped but cannot be decompressed: {error}") from None
    if len(raw) > MAX_INPUT_BYTES:
        raise UsageError(f"{path} is larger than {MAX_INPUT_BYTES // 2**20} MB")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeError:
        raise UsageError(f"{path} is not a snapshot: not UTF-8 text") from None
    except ValueError as error:
        raise UsageError(f"{path} is not JSON: {error}") from None
    except RecursionError:
        raise UsageError(f"{path} is not a snapshot: JSON nested too deeply") from None


def read_snapshot(path: Path) -> Snapshot:
    """A snapshot written by ``probe`` or ``check -o`` (plain or gzipped)."""
    from dnssec_doctor.model.snapshot import SnapshotError, load_snapshot

    data = read_json_document(path)
    try:
        return load_snapshot(data)
    except SnapshotError as error:
        raise UsageError(f"{path}: {error}") from None


def read_severity_profile(path: Path | None) -> dict[str, Severity]:
    """The severity profile in ``path`` (none: the code table's severities)."""
    if path is None:
        return {}
    from dnssec_doctor.diagnosis.profile import parse_severity_profile

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeError:
        raise UsageError(f"{path} is not a profile: not UTF-8 text") from None
    return dict(parse_severity_profile(text, str(path)))


# --- the lab's catalogue --------------------------------------------------------------------


def lab_catalogue() -> tuple[Scenario, ...]:
    """Every failure scenario of the lab, in catalogue order."""
    from dnssec_doctor.lab.scenarios import SCENARIOS

    return tuple(SCENARIOS)
