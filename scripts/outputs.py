"""Record what dnssec-doctor prints, to compare two versions of the code byte for byte.

A refactoring that must not change behaviour (issue #11) is checked like this:

    # once, with the lab up in a private network namespace: a snapshot per lab scenario
    unshare -n sh -c 'ip link set lo up && .venv/bin/python scripts/outputs.py snapshots S'
    # with each version of the code (same snapshots, so the same evidence and moment):
    .venv/bin/python scripts/outputs.py render S OUT_BEFORE     # on the old commit
    .venv/bin/python scripts/outputs.py render S OUT_AFTER      # on the new one
    diff -r OUT_BEFORE OUT_AFTER

``render`` writes, for every snapshot, the report of ``check --json``, the text report, the
Markdown and Nagios outputs, the result page's HTML (the web app's template over
``web.view.page_context``) and the SVG;
and for the damaged-zone corpus (``tests/damaged_zones.py``) the JSON of ``zone verify``
with and without the zone's DS, its run time left out. The committed snapshots of
``tests/data/snapshots`` are rendered too, so the comparison runs without the lab as well.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

DAMAGED = 400  # zones of the corpus, half NSEC, half NSEC3


def snapshots(directory: Path) -> None:
    from dnssec_doctor.lab import runtime
    from dnssec_doctor.lab.scenarios import SCENARIOS
    from dnssec_doctor.pipeline import lab_settings
    from dnssec_doctor.probe.collect import collect

    directory.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as lab_dir:
        profile = runtime.up(Path(lab_dir))
        try:
            runtime.flush_resolvers(Path(lab_dir))
            settings = lab_settings(profile, timeout=1.0, deadline=10.0)
            for scenario in SCENARIOS:
                snapshot = collect(scenario.query_name, scenario.qtype, settings)
                (directory / f"{scenario.slug}.json").write_text(json.dumps(snapshot.to_json()))
                print(scenario.slug, file=sys.stderr)
        finally:
            runtime.down(Path(lab_dir))


def render(snapshot_dir: Path, out: Path) -> None:
    import jinja2

    from dnssec_doctor.model.options import AnalysisOptions
    from dnssec_doctor.pipeline import analyze, read_snapshot
    from dnssec_doctor.render.json import render_json
    from dnssec_doctor.render.markdown import render_markdown
    from dnssec_doctor.render.nagios import render_nagios
    from dnssec_doctor.render.svg import render_svg
    from dnssec_doctor.render.text import render_text
    from dnssec_doctor.web import app
    from dnssec_doctor.web.view import page_context

    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(app.__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted(snapshot_dir.glob("*.json")) + sorted(
        (ROOT / "tests/data/snapshots").glob("*.json")
    )
    for path in paths:
        prefix = ("committed-" if path.parent.name == "snapshots" else "") + path.stem
        snapshot = read_snapshot(path)
        report = analyze(snapshot, AnalysisOptions(now=snapshot.finished_at))
        data = render_json(report)
        (out / f"{prefix}.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        (out / f"{prefix}.txt").write_text(render_text(report, width=100))
        (out / f"{prefix}.svg").write_text(render_svg(report))
        (out / f"{prefix}.md").write_text(render_markdown(report))
        nagios, state = render_nagios(report, warning_seconds=3 * 86400)
        (out / f"{prefix}.nagios").write_text(f"{nagios}\nexit {state}\n")
        page = templates.get_template("result.html").render(
            lab=True,
            types=app.TYPES,
            name=report.diagnosis.name,
            rdtype=report.diagnosis.rdtype,
            result_id="0123456789abcdef",
            permalink="http://127.0.0.1/results/0123456789abcdef",
            fresh=True,
            stored_at="2026-01-01 00:00:00 UTC (now)",
            **page_context(report),
        )
        (out / f"{prefix}.html").write_text(page)
    _render_corpus(out / "damaged")


def _render_corpus(out: Path) -> None:
    import dns.name

    from damaged_zones import FIXED_KEYS, NOW, ORIGIN, damaged_signed_zones
    from dnssec_doctor.model.options import AnalysisOptions
    from dnssec_doctor.render.verification import render_verification_json
    from dnssec_doctor.verify.command import verify_zone
    from dnssec_doctor.zonefile.reader import ZoneFileError

    out.mkdir(parents=True, exist_ok=True)
    ds = FIXED_KEYS.ksk.ds(dns.name.from_text(str(ORIGIN)))
    options = AnalysisOptions(now=NOW)
    with tempfile.TemporaryDirectory() as scratch:
        for index, text in enumerate(damaged_signed_zones(DAMAGED)):
            path = Path(scratch) / "zone"
            path.write_bytes(text)
            lines = []
            for given in ([], [ds]):
                try:
                    result = verify_zone(
                        path, "zone", origin=str(ORIGIN), options=options, ds=given, jobs=1
                    )
                except ZoneFileError as error:
                    lines.append(f"error: {error}")
                    continue
                data = render_verification_json(result)
                data.get("stats", {}).pop("seconds", None)
                lines.append(json.dumps(data, sort_keys=True))
            (out / f"{index:04d}.json").write_text("\n".join(lines) + "\n")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "snapshots":
        snapshots(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "render":
        render(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(f"usage: {sys.argv[0]} snapshots DIR | render SNAPSHOT_DIR OUT_DIR")


if __name__ == "__main__":
    main()
