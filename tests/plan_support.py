"""What every recovery plan must look like, whatever the fault: checked on hand-built
analyses, on every lab scenario and on the committed snapshots.

A plan is alternative paths, the preferred first, each followed from its first step to
its last: actions, one wait per transition, a final check. An operator following any
path literally must not be able to take another path's step for the next one, nor wait
the same wait twice.
"""

from __future__ import annotations

import itertools

from dnssec_doctor.model.diagnosis import (
    Actor,
    Diagnosis,
    PathRole,
    RecoveryPlan,
    StepKind,
    Task,
)
from dnssec_doctor.model.verdict import Verdict
from dnssec_doctor.render.plan import path_title, plan_lines, step_sentence

_ROLE_ORDER = [PathRole.FASTEST, PathRole.FALLBACK, PathRole.EMERGENCY]
_DS_CHANGES = {Task.REPLACE_DS, Task.PUBLISH_DS, Task.REMOVE_DS, Task.REMOVE_STALE_DS}
_DNSSEC_TASKS = _DS_CHANGES | {
    Task.RESIGN,
    Task.RESUME_SIGNING,
    Task.REPUBLISH_DNSKEY,
    Task.REPUBLISH_RETIRED_KEY,
    Task.SET_ZONE_KEY_FLAG,
    Task.ROLL_ALGORITHM,
    Task.LOWER_NSEC3_ITERATIONS,
}


def assert_plan_is_sound(plan: RecoveryPlan, *, ds_ttl: int | None = None) -> None:
    roles = [path.role for path in plan.paths]
    if PathRole.MAINTENANCE in roles:  # no outage: each item, then its other way
        assert roles[0] is PathRole.MAINTENANCE, roles
        assert set(roles) <= {PathRole.MAINTENANCE, PathRole.FALLBACK}, roles
        assert all(
            (a, b) != (PathRole.FALLBACK, PathRole.FALLBACK) for a, b in itertools.pairwise(roles)
        ), roles
    elif roles:
        assert roles[0] is PathRole.FASTEST, roles  # the preferred path comes first
        assert roles.count(PathRole.FASTEST) == 1, roles
        assert roles == sorted(roles, key=_ROLE_ORDER.index), roles
    for path in plan.paths:
        steps = path.steps
        assert steps and steps[0].kind is StepKind.DO, path  # a path starts by acting
        for step in steps:
            # One actor per step, from the fixed set, matching what the step is.
            assert isinstance(step.actor, Actor)
            if step.kind is StepKind.WAIT:
                assert step.actor is Actor.NOBODY, step
                assert step.wait_seconds is None or step.wait_seconds > 0, step
                if step.wait_seconds is None:  # open-ended: the operator polls
                    assert step.commands, step
            else:
                assert step.actor is not Actor.NOBODY and step.wait_seconds is None, step
            if step.task in (Task.REPLACE_DS, Task.PUBLISH_DS) and step.records:
                assert all(" DS " in record for record in step.records), step
            if step.task in (Task.REMOVE_DS, Task.REMOVE_STALE_DS):
                assert step.remove, step  # the exact records to remove
            sentence = step_sentence(step)
            assert sentence and "{" not in sentence, sentence
            for word in ("Alternatively", "Or instead", "Emergency"):
                assert word not in sentence, sentence  # alternatives are paths, not steps
        waits = [(s.task, s.wait_seconds) for s in steps if s.kind is StepKind.WAIT]
        assert len(waits) == len(set(waits)), waits  # never the same wait twice
        for first, second in itertools.pairwise(steps):
            if first.kind is StepKind.WAIT and second.kind is StepKind.WAIT:
                assert first.task is not second.task, path  # two transitions, two waits
        if path.role is not PathRole.MAINTENANCE or len(steps) > 1:
            assert steps[-1].kind is StepKind.VERIFY, path  # ... and ends by checking
            assert steps[-1].commands and "dnssec-doctor" in steps[-1].commands[0]
        assert path.eta_seconds == sum(
            s.wait_seconds or 0 for s in steps if s.kind is StepKind.WAIT
        )
        tasks = {s.task for s in steps}
        if tasks & _DS_CHANGES and path.role is not PathRole.MAINTENANCE:
            assert path.eta_open, path  # a registrar's change waits for the parent
            if ds_ttl is not None and Task.WAIT_DS_EXPIRY in tasks:
                assert path.eta_seconds >= ds_ttl, (path.eta_seconds, ds_ttl)
        if path.role is PathRole.EMERGENCY:
            assert Task.REMOVE_DS in tasks, path
        title = path_title(path)
        assert "ETA" in title or path.role is PathRole.MAINTENANCE or not path.eta_seconds
    if plan.not_dnssec:
        assert not plan.never_disable_signing
        assert not {s.task for s in plan.steps} & _DNSSEC_TASKS, plan
    # The text form: each path titled once, each step one line with one actor tag.
    lines = plan_lines(plan)
    titles = [line for line in lines if line.startswith("  ") and line.endswith(":")]
    titles = [line for line in titles if not line.startswith("    ")]
    assert len(titles) == len(plan.paths), lines
    numbered = [line for line in lines if line.strip()[:1].isdigit() and ". [" in line]
    assert len(numbered) == len(plan.steps), lines


def assert_diagnosis_plan(diagnosis: Diagnosis, *, ds_ttl: int | None = None) -> None:
    """The plan fits the verdict: a failure has a way out, and only a DNSSEC failure
    touches DNSSEC."""
    plan = diagnosis.recovery
    assert_plan_is_sound(plan, ds_ttl=ds_ttl)
    verdict = diagnosis.verdict
    if verdict in (Verdict.BOGUS, Verdict.PARTIAL):
        assert plan.paths and plan.paths[0].role is PathRole.FASTEST, plan
        assert plan.never_disable_signing or not {s.task for s in plan.steps} & _DNSSEC_TASKS
    if verdict is Verdict.UNREACHABLE:
        assert plan.not_dnssec, plan
    if verdict is Verdict.SECURE:
        assert all(p.role in (PathRole.MAINTENANCE, PathRole.FALLBACK) for p in plan.paths)
