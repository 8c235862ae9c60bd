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
