"""go-insecure's state machine on hand-built parent views (the lab tests drive it live)."""

from __future__ import annotations

from dnssec_doctor.change.insecure import GoInsecure, ParentView, Phase

ZONE = "example.lab."


def _view(
    at: float,
    *,
    with_ds: tuple[str, ...] = (),
    without: tuple[str, ...] = (),
    unproven: tuple[str, ...] = (),
    signed: bool = True,
) -> ParentView:
    return ParentView(ZONE, at, with_ds, without, (), unproven, None, 60, signed)


def test_a_no_ds_answer_without_a_valid_proof_does_not_count_as_gone() -> None:
    state = GoInsecure(ZONE, assumed_ds_ttl=120)
    status = state.observe(_view(0, without=("ns1",), unproven=("ns2",)))
    assert status.phase is Phase.REFUSE
    assert "without a valid signed proof" in status.message and "ns2" in status.message
    # Once every parent server proves the absence, the countdown starts from then.
    assert state.observe(_view(10, without=("ns1", "ns2"))).phase is Phase.WAITING
    assert state.observe(_view(10 + 119, without=("ns1", "ns2"))).phase is Phase.WAITING
    assert state.observe(_view(10 + 120, without=("ns1", "ns2"))).phase is Phase.SAFE


def test_a_ds_that_comes_back_restarts_the_countdown() -> None:
    state = GoInsecure(ZONE, assumed_ds_ttl=120)
    assert state.observe(_view(0, without=("ns1",))).phase is Phase.WAITING
    assert state.observe(_view(100, with_ds=("ns1",))).phase is Phase.REFUSE
    assert state.observe(_view(110, without=("ns1",))).phase is Phase.WAITING
    assert state.observe(_view(200, without=("ns1",))).phase is Phase.WAITING
    assert state.observe(_view(230, without=("ns1",))).phase is Phase.SAFE


def test_a_zone_never_signed_without_ds_is_already_insecure_not_danger() -> None:
    # No DS seen in this run and no DNSKEY served: a zone that was never signed looks
    # exactly like this; nothing shows a DS was removed recently, so no DANGER.
    state = GoInsecure(ZONE, assumed_ds_ttl=86400)
    status = state.observe(_view(0, without=("ns1", "ns2"), signed=False))
    assert status.phase is Phase.UNSIGNED
    assert int(status.phase.exit_code) == 0
    assert "DANGER" not in status.message and "Re-enable" not in status.message
    assert "already insecure" in status.message


def test_signing_off_right_after_the_ds_went_is_still_danger() -> None:
    state = GoInsecure(ZONE, assumed_ds_ttl=86400)
    seen = ParentView(ZONE, 0, ("ns1",), (), (), (), 3600, 60, True)
    assert state.observe(seen).phase is Phase.REFUSE
    status = state.observe(_view(10, without=("ns1",), signed=False))
    assert status.phase is Phase.REFUSE and "DANGER" in status.message
    assert "DS TTL 60 minutes" in status.message  # the DS TTL observed, not an assumed one


def test_a_zone_whose_servers_do_not_answer_gets_no_dnssec_advice() -> None:
    # A lame zone serves no DNSKEY because it serves nothing: not DNSSEC.
    state = GoInsecure(ZONE)
    lame = ParentView(ZONE, 0, ("ns1",), (), (), (), 3600, 60, False, zone_answers=False)
    status = state.observe(lame)
    assert status.phase is Phase.UNREACHABLE
    assert int(status.phase.exit_code) == 3
    assert "not a DNSSEC fault" in status.message
    assert "signing" not in status.message.lower()


def test_one_parent_server_is_never_all_1_servers() -> None:
    state = GoInsecure(ZONE, assumed_ds_ttl=120)
    one = state.observe(_view(0, without=("ns1",)))
    assert "the only server of the parent" in one.message and "all 1" not in one.message
    two = GoInsecure(ZONE, assumed_ds_ttl=120).observe(_view(0, without=("ns1", "ns2")))
    assert "all 2 servers of the parent" in two.message
    assert "another an assumed" not in one.message
