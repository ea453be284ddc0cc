"""The conversation state machine: transitions, stale presses, and whether a due survey is sent."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from survey_flows.definitions import BUILTIN_SURVEYS
from survey_flows.errors import InvalidAnswer, StaleAnswer
from survey_flows.flow import (
    START,
    SendDecision,
    Typed,
    decide_send,
    on_followup,
    on_score,
    on_typed,
    stop_reason,
)
from survey_flows.models import (
    Category,
    Customer,
    Invitation,
    InvitationStatus,
    Phase,
    Position,
    Survey,
)

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
EXPIRE = timedelta(days=3)
SUPPORT = BUILTIN_SURVEYS["support"]  # CES, then CSAT
CSAT = BUILTIN_SURVEYS["csat"]


def invitation(
    position: Position = START,
    status: InvitationStatus = InvitationStatus.ACTIVE,
    *,
    survey: Survey = SUPPORT,
    sent_at: datetime | None = NOW - timedelta(minutes=5),
    send_at: datetime = NOW - timedelta(minutes=5),
) -> Invitation:
    return Invitation(
        id=7,
        event_id="ev-7",
        event_type="ticket_closed",
        survey=survey.name,
        customer_id=1001,
        context={},
        created_at=NOW - timedelta(hours=1),
        send_at=send_at,
        status=status,
        position=position,
        prompt_sent=True,
        sent_at=sent_at,
    )


@pytest.mark.parametrize(
    ("survey", "step", "score", "category"),
    [
        (SUPPORT, 0, 2, Category.DETRACTOR),  # CES 2
        (SUPPORT, 0, 5, Category.PASSIVE),
        (SUPPORT, 1, 5, Category.PROMOTER),  # CSAT 5
        (CSAT, 0, 3, Category.PASSIVE),
    ],
)
def test_score_moves_to_followup_of_same_question(
    survey: Survey, step: int, score: int, category: Category
) -> None:
    inv = invitation(Position(step, Phase.SCORE), survey=survey)
    outcome = on_score(survey, inv, step, score, NOW, EXPIRE)
    assert outcome.position == Position(step, Phase.FOLLOWUP), (
        f"after pressing {score} the customer was not asked the follow-up: {outcome.position}"
    )
    assert outcome.category is category


@pytest.mark.parametrize(
    ("survey", "step", "expected"),
    [
        (SUPPORT, 0, Position(1, Phase.SCORE)),
        (SUPPORT, 1, Position(1, Phase.DONE)),
        (CSAT, 0, Position(0, Phase.DONE)),
    ],
)
def test_followup_moves_to_next_question_or_done(
    survey: Survey, step: int, expected: Position
) -> None:
    inv = invitation(Position(step, Phase.FOLLOWUP), survey=survey)
    got = on_followup(survey, inv, step, NOW, EXPIRE)
    assert got == expected, f"after the follow-up of question {step} the customer got {got}"


def test_whole_support_survey_walks_the_table() -> None:
    inv = invitation()
    seen = []
    for step, score in enumerate((6, 4)):
        inv = replace(inv, position=on_score(SUPPORT, inv, step, score, NOW, EXPIRE).position)
        seen.append(inv.position)
        inv = replace(inv, position=on_followup(SUPPORT, inv, step, NOW, EXPIRE))
        seen.append(inv.position)
    assert seen == [
        Position(0, Phase.FOLLOWUP),
        Position(1, Phase.SCORE),
        Position(1, Phase.FOLLOWUP),
        Position(1, Phase.DONE),
    ]


@pytest.mark.parametrize(
    ("inv", "question_index", "why"),
    [
        (invitation(Position(0, Phase.FOLLOWUP)), 0, "second press of the same keyboard"),
        (invitation(Position(1, Phase.SCORE)), 0, "press on an earlier question's keyboard"),
        (invitation(Position(0, Phase.SCORE)), 1, "press on a question not yet asked"),
        (invitation(Position(1, Phase.DONE), InvitationStatus.COMPLETED), 1, "finished survey"),
        (invitation(status=InvitationStatus.SCHEDULED, sent_at=None), 0, "not yet sent"),
        (invitation(status=InvitationStatus.CANCELLED), 0, "opted-out customer"),
        (invitation(status=InvitationStatus.EXPIRED), 0, "expired invitation"),
        (invitation(sent_at=NOW - EXPIRE - timedelta(seconds=1)), 0, "answered too late"),
    ],
)
def test_stale_score_is_refused(inv: Invitation, question_index: int, why: str) -> None:
    with pytest.raises(StaleAnswer):
        on_score(SUPPORT, inv, question_index, 5, NOW, EXPIRE)
        pytest.fail(f"{why}: the press was accepted and would store a second answer")


def test_score_exactly_at_expiry_is_still_accepted() -> None:
    inv = invitation(sent_at=NOW - EXPIRE)
    assert on_score(SUPPORT, inv, 0, 7, NOW, EXPIRE).category is Category.PROMOTER


@pytest.mark.parametrize(
    ("inv", "question_index"),
    [
        (invitation(Position(0, Phase.SCORE)), 0),  # no score yet: no follow-up awaited
        (invitation(Position(1, Phase.FOLLOWUP)), 0),
        (invitation(Position(1, Phase.DONE), InvitationStatus.COMPLETED), 1),
        (invitation(Position(0, Phase.FOLLOWUP), sent_at=NOW - timedelta(days=4)), 0),
    ],
)
def test_stale_followup_is_refused(inv: Invitation, question_index: int) -> None:
    with pytest.raises(StaleAnswer):
        on_followup(SUPPORT, inv, question_index, NOW, EXPIRE)


@pytest.mark.parametrize("score", [0, 8, True, -1])
def test_out_of_scale_score_is_invalid_not_stale(score: int) -> None:
    with pytest.raises(InvalidAnswer) as info:
        on_score(SUPPORT, invitation(), 0, score, NOW, EXPIRE)  # CES is 1..7
    assert not isinstance(info.value, StaleAnswer)


ON = Customer(1001)


# Recontact (the former min_gap rows) is decided when the invitation is stored: test_pacing.py.
@pytest.mark.parametrize(
    ("customer", "send_at", "expected"),
    [
        (ON, NOW, SendDecision.SEND),
        (None, NOW, SendDecision.SEND),
        (Customer(1001, opted_out_at=NOW - timedelta(days=1)), NOW, SendDecision.OPTED_OUT),
        (Customer(1001, unreachable_at=NOW - timedelta(days=1)), NOW, SendDecision.UNREACHABLE),
        (ON, NOW - EXPIRE - timedelta(seconds=1), SendDecision.TOO_LATE),
        (ON, NOW - EXPIRE, SendDecision.SEND),
    ],
)  # fmt: skip
def test_decide_send(customer: Customer | None, send_at: datetime, expected: SendDecision) -> None:
    inv = invitation(status=InvitationStatus.SCHEDULED, sent_at=None, send_at=send_at)
    got = decide_send(inv, customer, NOW, expire_after=EXPIRE)
    assert got is expected, f"a due survey would be handled as {got!r} instead of {expected!r}"


@pytest.mark.parametrize(
    ("status", "note", "reason"),
    [
        (InvitationStatus.SCHEDULED, None, None),
        (InvitationStatus.ACTIVE, None, None),
        (InvitationStatus.COMPLETED, None, None),
        (InvitationStatus.EXPIRED, "too_late", "expired"),
        (InvitationStatus.EXPIRED, None, "expired"),
        (InvitationStatus.CANCELLED, "opted_out", "opted_out"),
        (InvitationStatus.CANCELLED, "recently_surveyed", "suppressed"),
        (InvitationStatus.SUPPRESSED, "recontact", "recontact"),
        (InvitationStatus.FAILED, "unreachable", "unreachable"),
        (InvitationStatus.FAILED, "rejected: chat not found", "failed: rejected: chat not found"),
        (InvitationStatus.FAILED, None, "failed: unknown"),
    ],
)
def test_stop_reason_tells_the_shop_why(
    status: InvitationStatus, note: str | None, reason: str | None
) -> None:
    inv = replace(invitation(status=status), note=note)
    assert stop_reason(inv) == reason, f"the API would say {stop_reason(inv)!r} for {status}/{note}"


@pytest.mark.parametrize(
    ("survey", "text", "expected"),
    [
        (CSAT, "4", (Typed.SCORE, 4)),
        (CSAT, " 5 ", (Typed.SCORE, 5)),
        (CSAT, "1.", (Typed.SCORE, 1)),
        (CSAT, "３", (Typed.SCORE, 3)),  # a full-width digit, as Chinese keyboards type it
        (CSAT, "0", (Typed.OFF_SCALE, 0)),
        (CSAT, "6", (Typed.OFF_SCALE, 6)),
        (CSAT, "-1", (Typed.OFF_SCALE, -1)),
        (SUPPORT, "7", (Typed.SCORE, 7)),  # CES 1-7
        (SUPPORT, "10", (Typed.OFF_SCALE, 10)),
        (CSAT, "it was awful, took 3 days", (Typed.COMMENT, None)),
        (CSAT, "4 stars", (Typed.COMMENT, None)),
        (CSAT, None, (Typed.COMMENT, None)),  # a voice note without a caption
    ],
)
def test_text_typed_at_a_score_question(survey: Survey, text: str | None, expected) -> None:
    reading = on_typed(survey, invitation(survey=survey), text, NOW, EXPIRE)
    assert (reading.typed, reading.score) == expected


@pytest.mark.parametrize(
    "inv",
    [
        invitation(Position(0, Phase.FOLLOWUP)),
        invitation(status=InvitationStatus.COMPLETED),
        invitation(sent_at=NOW - EXPIRE - timedelta(seconds=1)),
    ],
    ids=["follow-up asked", "finished", "expired"],
)
def test_text_typed_without_a_live_score_question_is_stale(inv: Invitation) -> None:
    with pytest.raises(StaleAnswer):
        on_typed(SUPPORT, inv, "3", NOW, EXPIRE)
