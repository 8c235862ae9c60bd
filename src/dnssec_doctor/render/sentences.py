"""The diagnosis in words: the headline, the EDE line and the four views, written from
the values the diagnosis holds (codes, zones, servers, counts). Text, Markdown, JSON, the
web page, the SVG and the Nagios output take their sentences from here, so they agree.

Pure: takes diagnosis values, returns strings.
"""

from __future__ import annotations

from dnssec_doctor.analysis.resolvers import ede_name
from dnssec_doctor.model.diagnosis import Conclusion, Diagnosis, HeadlineKind, Views
from dnssec_doctor.model.time_text import iso_utc
from dnssec_doctor.model.verdict import Verdict


def _sentence(text: str) -> str:
    """End with one full stop, even after a name's trailing dot."""
    if text.endswith("..") and not text.endswith("\\.."):
        return text[:-1]
    return text if text.endswith(".") else text + "."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def headline_text(diagnosis: Diagnosis) -> str:
    """The broken link in one sentence, the cause first."""
    h = diagnosis.headline
    subject = f"{diagnosis.name} {diagnosis.rdtype}"
    where = h.zone or "?"
    cause = h.cause
    summary = cause.summary if cause is not None else ""
    if cause is not None and h.similar:
        noun = "signature" if cause.code.startswith("RRSIG_") else "finding"
        summary += f"; {_plural(h.similar, 'more ' + noun)} of {where} fail the same way"
    match h.kind:
        case HeadlineKind.VALIDATES:
            text = f"{subject} validates: the chain of trust is intact"
        case HeadlineKind.NAME_MISSING:
            text = (
                f"{diagnosis.name} does not exist (NXDOMAIN): {h.zone or 'its zone'} proves it "
                "with a validly signed denial. Not a DNSSEC fault: check the name, or the "
                "zone's contents"
            )
        case HeadlineKind.NO_CAUSE:
            text = f"{subject} is {diagnosis.verdict.value} at {where}"
        case HeadlineKind.UNSIGNED:
            text = summary  # a name keeps its case: "unsigned.lab. is not signed"
        case HeadlineKind.DENIAL_UNPROTECTED:
            text = (
                f"Only denial of existence in {where} loses protection: {summary}. Its "
                "negative answers are insecure to validators; names that exist still validate"
            )
        case HeadlineKind.CHAIN_ENDS:
            text = f"The chain of trust ends at {where}: {summary}"
        case HeadlineKind.NOT_DNSSEC:
            text = f"Not DNSSEC: {summary}"
        case HeadlineKind.NO_VERDICT:
            text = f"No verdict: {summary}"
        case HeadlineKind.KEYS_DISAGREE:
            text = f"The servers' keys do not agree: {summary}"
        case HeadlineKind.PARTIAL:
            text = f"One server serves data that fails validation: {summary}"
        case HeadlineKind.ANSWER_FAILS:
            text = f"The chain of trust holds down to {where}, but the answer fails: {summary}"
        case _:
            text = f"The chain of trust breaks at {where}: {summary}"
    if h.missing:
        text = f"{diagnosis.name} does not exist (NXDOMAIN, not protected by DNSSEC). " + _sentence(
            text
        )
    if h.alias_zone is not None:
        text = (
            f"{diagnosis.name} is a CNAME (or DNAME) into {where}, which fails: the DNS "
            f"operator of {h.alias_zone} can repoint it; only the operator of {where} can "
            "fix that zone. " + _sentence(text)
        )
    if h.forecast_at is not None:
        text = f"Forecast for {iso_utc(h.forecast_at)}, not the present: " + text
    return _sentence(text)


def ede_text(diagnosis: Diagnosis) -> str:
    """Which EDE belongs to the cause, and whether the resolvers asked returned it."""
    if diagnosis.ede is None or diagnosis.verdict is Verdict.SECURE:
        return ""
    ede = f"EDE {diagnosis.ede} ({ede_name(diagnosis.ede)})"
    seen = diagnosis.views.ede_returned
    if diagnosis.ede in seen:
        return f"{ede}: the resolvers asked returned it."
    if seen:
        other = ", ".join(f"EDE {c} ({ede_name(c)})" for c in seen)
        return (
            f"{ede} is what a validator sends for this cause; the resolvers asked returned {other}."
        )
    return f"{ede} is what a validator sends for this cause; no resolver asked returned an EDE."


_CONCLUSIONS = {
    Conclusion.NOT_DNSSEC: (
        "DNSSEC is not the failing layer: the authoritative servers do not answer."
    ),
    Conclusion.CD_ANSWERS: (
        "DNSSEC is the failing layer: resolvers answer with checking disabled and SERVFAIL without."
    ),
    Conclusion.HIDDEN_BY_RETRY: (
        "DNSSEC is the failing layer on some servers: validating resolvers retried another "
        "server and hide it, until the good servers go."
    ),
    Conclusion.DATA_FAILS: (
        "DNSSEC is the failing layer: the zone's servers answer but the data does not validate."
    ),
    Conclusion.UNDECIDED: "The views do not tell whether DNSSEC is the failing layer.",
    Conclusion.VALIDATES: "DNSSEC is not failing: validators accept the answer.",
    Conclusion.INSECURE: (
        "DNSSEC is not failing: validators accept the answer as insecure (not protected by DNSSEC)."
    ),
}


def conclusion_text(views: Views) -> str:
    if views.conclusion is Conclusion.SOME_RESOLVERS_FAIL:
        return (
            f"DNSSEC is the failing layer on some servers: {views.resolvers_failing} of "
            f"{views.resolvers_answering} validating resolvers answer SERVFAIL, the others "
            "retried another server; they fail too once the good servers go."
        )
    return _CONCLUSIONS[views.conclusion]


def view_texts(views: Views) -> dict[str, str]:
    """The four views, one line each: authoritative, validating, checking_disabled,
    parent_ds."""
    if views.answer_zone is not None:
        answered = views.servers - len(views.silent_servers)
        authoritative = f"{answered}/{views.servers} servers of {views.answer_zone} answer"
        if views.silent_servers:
            authoritative += f" (no answer from {', '.join(views.silent_servers)})"
    else:
        authoritative = "no authoritative server found"
    if views.resolvers_answering:
        total = views.resolvers_answering
        if views.resolvers_failing:
            edes = ", ".join(f"{c} ({ede_name(c)})" for c in views.ede_seen)
            validating = f"SERVFAIL at {views.resolvers_failing}/{total}"
            validating += f", EDE {edes}" if edes else ""
            checking_disabled = (
                f"answers at {views.cd_answering}/{views.resolvers_failing} of the failing "
                "resolvers"
            )
        else:
            validating = f"answer at {total}/{total} ({views.resolvers_with_ad} with AD)"
            checking_disabled = "not needed"
    else:
        validating = (
            "not asked (--no-resolvers)"
            if not views.resolvers_asked
            else "no validating resolver answered"
            if views.not_validating
            else "no resolver answered"
        )
        checking_disabled = "not asked"
    if views.not_validating:
        validating += f" ({', '.join(views.not_validating)} does not validate: left out)"
    if views.ds_zone is None:
        parent_ds = "no zone found"
    elif views.ds_count:
        parent_ds = f"{views.ds_count} DS for {views.ds_zone} at {views.ds_parent}"
    else:
        parent_ds = f"no DS for {views.ds_zone} at {views.ds_parent or 'the trust anchor'}"
    return {
        "authoritative": authoritative,
        "validating": validating,
        "checking_disabled": checking_disabled,
        "parent_ds": parent_ds,
    }
