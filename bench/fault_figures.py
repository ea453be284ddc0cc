"""What a fault bench run measured: answers and comments lost, first questions missing,
duplicates, and how long customers waited after each fault (bench/faults.py runs it)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.e2e.crowd import Comment, Customer, Run, Watcher, is_thanks, prompt_key


@dataclass
class Figures:
    scenario: str
    surveys: int
    kills: int = 0
    answers_lost: int = 0
    comments_lost: int = 0
    first_missing: int = 0
    duplicates: int = 0
    reasks: int = 0
    thanks_duplicates: int = 0
    max_recover: float = 0.0
    delivered_presses: int = 0
    stuck: list[str] = field(default_factory=list)


Waits = list[tuple[float, float]]  # (asked at, served at) of what a customer waited for
Answers = dict[tuple[int, int], sqlite3.Row]


def read_db(path: Path) -> tuple[dict[str, int], Answers]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        invitations = {
            r["event_id"]: r["id"] for r in conn.execute("SELECT id, event_id FROM invitations")
        }
        answers = {
            (r["invitation_id"], r["question_index"]): r
            for r in conn.execute(
                "SELECT invitation_id, question_index, score, comment FROM answers"
            )
        }
    finally:
        conn.close()
    return invitations, answers


def measure(run: Run, name: str, kills: int) -> Figures:
    """Figures from the stored SQLite file and the emulator's record of successful calls.

    - answers lost: (invitation, question) pairs where the customer's score press reached the bot
      (its callback query was answered or the question edited after it) but no answer with that
      score is stored; comments lost likewise (the bot edited the follow-up or sent the next
      prompt after the comment was typed, but the comment is not stored, alone or joined with
      others typed at that follow-up, or is stored with words typed at another question).
    - first question missing: an accepted event whose invitation never showed question 0.
    - duplicates: successful sendMessage calls of a prompt (question or follow-up, told apart by
      their buttons' invitation and question) with the same text beyond the first, per customer,
      and thank-yous beyond the first; a question asked again under the bot's answer to a message
      typed at it ("Thanks, noted. Please also tap a score:") is counted apart (re-asked).
    - recover: for each fault, the longest wait, counted from when the fault ended (a kill: the
      SIGKILL; a storm or outage: when lifted), of anything a customer was waiting for at that
      moment: a first question of an accepted event, an answer to a press, a reaction to a
      comment; for a kill at least until the restarted bot polled again.
    """
    invitations, answers = read_db(run.bot.db_path)
    f = Figures(name, len(run.customers), kills)
    waits: Waits = []
    for c in run.customers:
        if c.stuck:
            f.stuck.append(f"{c.user_id}: {c.stuck}")
        if c.invitation is None:
            continue
        if invitations.get(c.event_id) != c.invitation:
            f.stuck.append(
                f"{c.user_id}: the intake API and the database disagree on the invitation"
            )
        waits += _count_prompts(f, c, c.invitation, run.watcher)
        waits += _press_waits(c, run.watcher)
        _count_answers(f, c, c.invitation, run.watcher, answers)
        waits += _count_comments(f, c, c.invitation, answers)
    f.max_recover = _max_recover(run.faults, waits)
    return f


def _count_prompts(f: Figures, c: Customer, invitation: int, w: Watcher) -> Waits:
    """First question missing, duplicates, re-asks and extra thank-yous of one customer; the
    wait for the first question."""
    sent = w.sent(c.user_id)
    firsts = [x.at for x in sent if prompt_key(x) == ("score", invitation, 0)]
    waits = []
    if not firsts:
        f.first_missing += 1
    elif c.posted_at is not None:
        waits.append((c.posted_at, firsts[0]))
    # The same prompt with the same text again is a duplicate; with other words (a question
    # asked again under "Thanks, noted. Please also tap a score:" because the customer typed
    # at it) it is the bot's answer to a message, counted apart.
    shown = [(k, x.params.get("text")) for x in sent if (k := prompt_key(x))]
    ours = [(k, text) for k, text in shown if k[1] == invitation]
    prompts = Counter(k for k, _ in ours)
    f.duplicates += sum(n - 1 for n in Counter(ours).values())
    f.reasks += sum(n - 1 for n in prompts.values()) - sum(n - 1 for n in Counter(ours).values())
    f.thanks_duplicates += max(0, sum(1 for x in sent if is_thanks(x)) - 1)
    return waits


def _press_waits(c: Customer, w: Watcher) -> Waits:
    """Each press that was answered or followed by an edit: from the press to the first of them."""
    waits = []
    for p in c.presses:
        served = [
            t
            for t in (w.answered.get(p.query_id), w.edited_at(c.user_id, p.message_id, p.at))
            if t is not None
        ]
        if served:
            waits.append((p.at, min(served)))
    return waits


def _count_answers(f: Figures, c: Customer, invitation: int, w: Watcher, answers: Answers) -> None:
    """Delivered score presses, and those whose score is not stored (answers lost)."""
    scored = {p.question: p.value for p in c.presses if p.kind == "score"}
    for question, value in scored.items():
        delivered = [
            p
            for p in c.presses
            if p.kind == "score"
            and p.question == question
            and (w.answered.get(p.query_id) or w.edited_at(c.user_id, p.message_id, p.at))
        ]
        if not delivered:
            continue
        f.delivered_presses += 1
        row = answers.get((invitation, question))
        if row is None or row["score"] != value:
            f.answers_lost += 1


def _count_comments(f: Figures, c: Customer, invitation: int, answers: Answers) -> Waits:
    """Comments lost of one customer; the wait for each comment's acknowledgement."""
    typed: dict[int, list[Comment]] = {cm.question: [] for cm in c.comments}
    for cm in c.comments:
        typed[cm.question].append(cm)
    waits = []
    for question, comments in typed.items():
        if any(cm.acked_at for cm in comments):
            # Kept: the stored comment is one or more (joined) of the messages typed at
            # this follow-up, and none typed at another question.
            row = answers.get((invitation, question))
            stored = (row["comment"] or "").split("\n") if row else []
            if not stored or not set(stored) <= {cm.text for cm in comments}:
                f.comments_lost += 1
        waits += [(cm.at, cm.acked_at) for cm in comments if cm.acked_at]
    return waits


def _max_recover(faults: list[tuple[float, float]], waits: Waits) -> float:
    """The longest wait after any fault ended, of what was being waited for at that moment."""
    longest = 0.0
    for ended, back in faults:
        worst = back - ended
        for asked, served in waits:
            if asked <= ended < served:
                worst = max(worst, served - ended)
        longest = max(longest, worst)
    return longest
