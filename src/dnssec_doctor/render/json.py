"""The JSON contract of ``check --json`` (other tools depend on these keys; the schema is
docs/check-json.schema.json).

Stable keys: name, type, verdict, ede, zone, causes[{code, summary}], recovery{paths[{role,
eta_seconds, steps[{kind, task, actor, action, records, remove, wait_seconds}]}]},
resolvers[{address, rcode, ad, ede[{code, text}], cd_rcode}], servers, queries. Everything
else is added information.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import dns.message
import dns.rcode

from dnssec_doctor import __version__
from dnssec_doctor.analysis.context import parse
from dnssec_doctor.model.diagnosis import RecoveryPlan
from dnssec_doctor.model.finding import Finding
from dnssec_doctor.model.time_text import iso_utc
from dnssec_doctor.render.exchange import exchange_outcome, outcome_json
from dnssec_doctor.render.plan import path_title, plan_cautions, step_sentence
from dnssec_doctor.render.sentences import conclusion_text, ede_text, headline_text, view_texts
from dnssec_doctor.render.validators import public_resolvers_json, validators_json

if TYPE_CHECKING:  # the zone verifier renders findings without loading the check pipeline
    from dnssec_doctor.diagnosis.report import Report

JSON_VERSION = 2  # 2: recovery became a plan of alternative paths


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "summary": finding.summary,
        "severity": finding.severity.label,
        "zone": finding.zone,
        "subject": finding.subject,
        "ede": finding.ede,
        "servers": list(finding.servers),
        "records": list(finding.records),
        "params": dict(finding.params),
    }


def plan_json(plan: RecoveryPlan) -> dict[str, Any]:
    """The recovery plan: alternative paths (follow one), each with its steps as values
    and the sentence the text report prints for each (``action``)."""
    alone = len(plan.paths) == 1
    return {
        "paths": [
            {
                "role": path.role.value,
                "title": path_title(path, alone=alone),
                "eta_seconds": path.eta_seconds,
                "eta_max_seconds": path.eta_max_seconds,
                "eta_open": path.eta_open,
                "steps": [
                    {
                        "kind": step.kind.value,
                        "task": step.task.value,
                        "actor": step.actor.value,
                        "zone": step.zone,
                        "optional": step.optional,
                        "action": step_sentence(step),
                        "records": list(step.records),
                        "remove": list(step.remove),
                        "commands": list(step.commands),
                        "wait_seconds": step.wait_seconds,
                        "wait_max_seconds": step.wait_max_seconds,
                        "params": dict(step.params),
                    }
                    for step in path.steps
                ],
            }
            for path in plan.paths
        ],
        "never_disable_signing": plan.never_disable_signing,
        "not_dnssec": plan.not_dnssec,
        "cautions": plan_cautions(plan),
    }


def render_json(report: Report) -> dict[str, Any]:
    diagnosis = report.diagnosis
    analysis = report.analysis
    return {
        "version": JSON_VERSION,
        "tool": f"dnssec-doctor {__version__}",
        "name": diagnosis.name,
        "type": diagnosis.rdtype,
        "verdict": diagnosis.verdict.value,
        "ede": diagnosis.ede,
        "zone": diagnosis.zone,
        "headline": headline_text(diagnosis),
        "headline_facts": {
            "kind": diagnosis.headline.kind.value,
            "zone": diagnosis.headline.zone,
            "cause": diagnosis.headline.cause.code if diagnosis.headline.cause else None,
            "similar": diagnosis.headline.similar,
            "forecast_at": iso_utc(diagnosis.headline.forecast_at)
            if diagnosis.headline.forecast_at is not None
            else None,
            "alias_zone": diagnosis.headline.alias_zone,
        },
        "ede_text": ede_text(diagnosis),
        "dnssec_failing": diagnosis.views.dnssec_failing,
        # The name asked does not exist (NXDOMAIN, or a compact denial), however well the
        # denial validates: the exit code is then 3, never 0.
        "nxdomain": analysis.outcome == "nxdomain",
        "causes": [finding_json(f) for f in diagnosis.causes],
        "warnings": [finding_json(f) for f in diagnosis.warnings],
        "recovery": plan_json(diagnosis.recovery),
        "validators": validators_json(diagnosis.validators),
        "public_resolvers": public_resolvers_json(diagnosis.public_resolvers),
        "views": {
            **view_texts(diagnosis.views),
            "conclusion": conclusion_text(diagnosis.views),
            "facts": {
                "answer_zone": diagnosis.views.answer_zone,
                "servers": diagnosis.views.servers,
                "silent_servers": list(diagnosis.views.silent_servers),
                "resolvers_asked": diagnosis.views.resolvers_asked,
                "resolvers_answering": diagnosis.views.resolvers_answering,
                "resolvers_failing": diagnosis.views.resolvers_failing,
                "resolvers_with_ad": diagnosis.views.resolvers_with_ad,
                "ede_seen": list(diagnosis.views.ede_seen),
                "ede_returned": list(diagnosis.views.ede_returned),
                "cd_answering": diagnosis.views.cd_answering,
                "ds_zone": diagnosis.views.ds_zone,
                "ds_parent": diagnosis.views.ds_parent,
                "ds_count": diagnosis.views.ds_count,
                "conclusion": diagnosis.views.conclusion.value,
            },
        },
        "resolvers": [
            {
                "address": r.address,
                "rcode": r.rcode,
                "ad": r.ad,
                "ede": [{"code": code, "text": text} for code, text in r.ede],
                "cd_rcode": r.cd_rcode,
                "validates": r.validates,
                "plain_rcode": r.plain_rcode,
                "error": r.error,
                "dig": r.dig,
            }
            for r in analysis.resolvers
        ],
        "zones": [
            {
                "zone": z.zone,
                "parent": z.parent,
                "state": z.state.value,
                "ds": list(z.ds_records),
                "dnskey": list(z.dnskey_records),
                "ds_to_publish": list(z.ds_to_publish),
                "ds_ttl": z.ds_ttl,
            }
            for z in analysis.zones
        ],
        "servers": [
            {
                "zone": z.zone,
                "server": s.server,
                "answered": s.answered,
                "serial": s.serial,
                "dnskey_tags": list(s.dnskey_tags),
                "newest_inception": iso_utc(s.newest_inception) if s.newest_inception else None,
                "earliest_expiration": iso_utc(s.earliest_expiration)
                if s.earliest_expiration
                else None,
                "state": s.state.value,
            }
            for z in analysis.zones
            for s in z.servers
        ],
        "findings": [finding_json(f) for f in analysis.findings],
        "queries": [_query_json(e) for e in report.snapshot.exchanges],
        "notes": list(analysis.notes),
        "collected_at": iso_utc(report.snapshot.collected_at),
        "judged_at": iso_utc(analysis.now),
    }


def _query_json(exchange: Any) -> dict[str, Any]:
    observation = parse(exchange)
    message: dns.message.Message | None = observation.message
    return {
        "id": exchange.id,
        "time": iso_utc(exchange.sent_at),
        "server": exchange.server.label(),
        "role": exchange.role.value,
        "purpose": exchange.purpose.value,
        "qname": exchange.qname,
        "qtype": exchange.qtype,
        "transport": exchange.transport.value,
        "rcode": dns.rcode.to_text(message.rcode()) if message is not None else None,
        "error": exchange.error or observation.parse_error,
        "duration_ms": round(exchange.duration * 1000, 1)
        if exchange.duration is not None
        else None,
        "dig": exchange.dig_command(),
        # What came back, as dig would show it: flags, EDE, the answer's first records.
        **outcome_json(exchange_outcome(exchange)),
    }
