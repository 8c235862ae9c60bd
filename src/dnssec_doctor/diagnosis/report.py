"""A report bundles what every renderer needs: the snapshot, its analysis, the diagnosis."""

from __future__ import annotations

from dataclasses import dataclass

from dnssec_doctor.analysis.chain import Analysis, analyze_evidence
from dnssec_doctor.analysis.context import Evidence
from dnssec_doctor.diagnosis.profile import apply_profile
from dnssec_doctor.diagnosis.rules import diagnose
from dnssec_doctor.model.diagnosis import Diagnosis
from dnssec_doctor.model.options import AnalysisOptions
from dnssec_doctor.model.snapshot import Snapshot


@dataclass(frozen=True)
class Report:
    """A check's result: the snapshot, its analysis and the diagnosis."""

    snapshot: Snapshot
    analysis: Analysis
    diagnosis: Diagnosis


def build_report(snapshot: Snapshot, options: AnalysisOptions) -> Report:
    """Analyze a snapshot offline and diagnose it: ``analyze`` and the second half of ``check``."""
    analysis = apply_profile(analyze_evidence(Evidence.of(snapshot), options), options.severities)
    return Report(snapshot, analysis, diagnose(analysis, options.severities))
