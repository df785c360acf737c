"""Paper, attested (issue 15, item 3): the rules and the use cases, forbidden paths first.

A facilitator prints, enters; a second person attests (never whoever entered, R14); nobody
answers or votes both online and on paper (R7, R8); entries count only once attested; a
sheet code of another round or vote is not found; a secret sheet names nobody and its code
is the receipt (R17); every refusal writes nothing.
"""
from __future__ import annotations

import io
import json
import re

import pypdf
import pytest
from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput, PermissionDenied, RuleViolation
from governance.rules import paper as rules
from governance.storage.models import (
    AuditEvent,
    PaperCertificate,
    PaperSheet,
    SecretBallot,
    SurveyResponse,
    SurveyRound,
    VoteParticipation,
)
from governance.storage.repository import round_counts
from governance.vocabulary import PanelRole
from tests.world import NOT, SOMEWHAT, VERY, World

SCAN = b"%PDF-1.4 a scan of the returned sheets and the count sheet"


def sheets_of(pdf: bytes) -> dict[str, str]:
    """name → sheet code, read back from the printed PDF (the only place a code exists)."""
    found = {}
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        words = page.extract_text()
        name = re.search(r"^For:? (.+?)(?: - tear off.*)?$", words, re.M)
        code = re.search(r"Sheet code: ([0-9A-Z]{5}-[0-9A-Z]{5})", words)
        assert name and code, words[:300]
        found[name[1]] = code[1]
    return found


def second_facilitator(w: World) -> int:
    other = w.person("Frank Facilitator", ["frontline", "facilitator"])
    sv.add_panel_member(w.uow, w.admin, w.panel, other, PanelRole.FACILITATOR)
    return other


@pytest.fixture
def survey(world: World) -> tuple[World, int, int]:
    """(world, pilot, open round) with the members rostered and the window passed."""
    _, pilot = world.pilot_in_use()
    world.pass_window()
    return world, pilot, sv.open_survey_round(world.uow, world.commissioner, pilot)


# ===================================================================== rules
def test_the_certificate_adds_up_or_says_why_not() -> None:
    cert, problems = rules.certificate(issued=6, returned=5, entered=4, spoiled=1, note="Member 5 was on leave.")
    assert problems == [] and cert.mismatch.startswith("1 of the 6 sheets printed was not returned")
    assert cert.mismatch.endswith("Member 5 was on leave.")
    _, problems = rules.certificate(issued=6, returned=5, entered=4, spoiled=1, note=" ")
    assert problems and "Say in a sentence what happened" in problems[0]
    _, problems = rules.certificate(issued=6, returned=7, entered=6, spoiled=1, note="x")
    assert any("only 6 were printed" in p for p in problems)
    _, problems = rules.certificate(issued=6, returned=6, entered=4, spoiled=1, note="")
    assert any("4 were entered and 1 spoiled" in p for p in problems)
    cert, problems = rules.certificate(issued=3, returned=3, entered=2, spoiled=1, note="")
    assert problems == [] and cert.mismatch == ""


def test_whoever_entered_never_attests_and_only_steering_or_a_facilitator_may() -> None:
    from governance.vocabulary import Role
    assert "cannot also attest" in (rules.attest_refusal(actor_id=1, roles={Role.FACILITATOR}, panel_role="facilitator",
                                                         entered_by=[1, 2]) or "")
    assert rules.attest_refusal(actor_id=3, roles={Role.FACILITATOR}, panel_role="facilitator", entered_by=[1]) is None
    assert rules.attest_refusal(actor_id=3, roles={Role.STEERING}, panel_role=None, entered_by=[1]) is None
    assert rules.attest_refusal(actor_id=3, roles={Role.FACILITATOR}, panel_role=None, entered_by=[1])
    assert rules.attest_refusal(actor_id=3, roles={Role.FRONTLINE}, panel_role="member", entered_by=[1])


def test_never_both_online_and_on_paper() -> None:
    assert rules.double_refusal(done_online=True, entered_on_paper=False, to=rules.PAPER)
    assert rules.double_refusal(done_online=False, entered_on_paper=True, to=rules.ONLINE)
    assert rules.double_refusal(done_online=False, entered_on_paper=False, to=rules.PAPER) is None


def test_sheet_codes_are_unguessable_and_bound_to_their_act() -> None:
    codes = {rules.new_sheet_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}", c) for c in codes)
    code, key = codes.pop(), b"k" * 32
    assert rules.code_digest(key, "survey_round", 1, code) != rules.code_digest(key, "survey_round", 2, code)
    assert rules.code_digest(key, "vote", 1, code.lower().replace("-", " ")) == rules.code_digest(key, "vote", 1, code)


# ============================================================ survey rounds
def test_a_paper_round_end_to_end(survey: tuple[World, int, int]) -> None:
    w, pilot, rnd = survey
    sv.submit_survey_response(w.uow, w.members[0], rnd, answer=VERY)  # online, before printing
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    codes = sheets_of(printed.pdf)
    assert printed.sheets == 5 and set(codes) == {f"Member {i}" for i in range(2, 7)}  # not Member 1: answered
    for name, answer in (("Member 2", VERY), ("Member 3", SOMEWHAT), ("Member 4", NOT)):
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes[name], answer=answer,
                             sus=[4, 2, 4, 2, 4, 2, 4, 2, 4, 2] if name == "Member 2" else None)
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 5"].lower(), spoiled=True)
    with w.db.uow().reading() as s:  # entries do not count before the batch is attested
        assert round_counts(s, rnd)["n"] == 1
    with w.refuses(RuleViolation, "paper sheet for this has been entered"):
        sv.submit_survey_response(w.uow, w.members[1], rnd, answer=NOT)  # Member 2: entered on paper
    with w.refuses(PermissionDenied, "cannot also attest") as info:
        sv.attest_paper_batch(w.uow, w.facilitator, printed.batch_id, returned=4, scan=SCAN, scan_filename="s.pdf",
                              note="Member 6 was away.")
    assert info.value.rule == "R14"
    with w.refuses(InvalidInput, "Say in a sentence what happened"):
        sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=4, scan=SCAN, scan_filename="s.pdf")
    with w.refuses(InvalidInput, "2 things need fixing") as info:
        sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=5, scan=b"", scan_filename="s.pdf",
                              note="One more came back.")
    assert set(info.value.problems) == {"Scan or photo", "Sheets returned"}
    cert = sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=4, scan=SCAN,
                                 scan_filename="returned-sheets.pdf", note="Member 6 was away.")
    assert (cert["issued"], cert["returned"], cert["entered"], cert["spoiled"]) == (5, 4, 3, 1)
    assert cert["mismatch"] == "1 of the 5 sheets printed was not returned. Member 6 was away."
    assert cert["entered_by"] == [w.facilitator] and cert["attested_by"] == w.steering
    import hashlib
    assert cert["scan_sha256"] == hashlib.sha256(SCAN).hexdigest()
    with w.db.uow().reading() as s:
        counts = round_counts(s, rnd)
        assert counts["n"] == 4 and counts["answers"]["very_disappointed"] == 2 and counts["sus_n"] == 1
        channels = dict(s.execute(select(SurveyResponse.person_id, SurveyResponse.channel)
                                  .where(SurveyResponse.round_id == rnd)).all())
        assert channels[w.members[0]] == "online" and channels[w.members[1]] == "paper"
        assert s.get(PaperCertificate, printed.batch_id) is not None
    with w.refuses(RuleViolation, "already attested"):
        sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=4, scan=SCAN, scan_filename="s.pdf",
                              note="again")


def test_someone_who_answered_online_is_not_entered_from_paper(survey: tuple[World, int, int]) -> None:
    w, _, rnd = survey
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    codes = sheets_of(printed.pdf)
    sv.submit_survey_response(w.uow, w.members[2], rnd, answer=VERY)  # Member 3 answers online after printing
    with w.refuses(RuleViolation, "already answered or voted online") as info:
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 3"], answer=NOT)
    assert info.value.rule == "R7"
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 3"], spoiled=True)


def test_a_sheet_counts_once_and_a_wrong_code_is_not_found(survey: tuple[World, int, int]) -> None:
    w, _, rnd = survey
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    code = sheets_of(printed.pdf)["Member 1"]
    # a code printed for a vote is not a sheet of this round
    vote = sv.propose_ratification(w.uow, w.facilitator, w.draft_problem(title="Another problem"))
    ballot_code = next(iter(sheets_of(sv.print_paper_batch(w.uow, w.facilitator, vote_id=vote).pdf).values()))
    with w.refuses(InvalidInput, "is not the code of a sheet printed for this survey form"):
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=ballot_code, answer=VERY)
    with w.refuses(InvalidInput, "2 things need fixing") as info:
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=code, answer="delighted",
                             sus=[1, 2, 3])
    assert set(info.value.problems) == {"Answer", "Usability"}
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=code, answer=VERY)
    with w.refuses(RuleViolation, "already entered"):
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=code, answer=NOT)
    with w.refuses(RuleViolation, "is not attested yet"):
        sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)


def test_only_a_facilitator_of_the_panel_prints_and_enters(survey: tuple[World, int, int]) -> None:
    w, _, rnd = survey
    for who in (w.commissioner, w.members[0], w.steering):
        with w.refuses(PermissionDenied):
            sv.print_paper_batch(w.uow, who, round_id=rnd)
    outsider = w.person("Paula Elsewhere", ["frontline", "facilitator"])
    with w.refuses(PermissionDenied, "Only a facilitator of the owning panel"):
        sv.print_paper_batch(w.uow, outsider, round_id=rnd)
    with w.refuses(InvalidInput, "either a survey round or a vote"):
        sv.print_paper_batch(w.uow, w.facilitator)


def test_entries_of_a_batch_never_attested_do_not_count(survey: tuple[World, int, int]) -> None:
    w, _, rnd = survey
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    for code in sheets_of(printed.pdf).values():
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=code, answer=VERY)
    sv.close_survey_round(w.uow, w.commissioner, rnd)
    with w.db.uow().reading() as s:
        assert s.get(SurveyRound, rnd).responses == 0
    with w.refuses(RuleViolation, "closed"):
        sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=6, scan=SCAN, scan_filename="s.pdf")


# ========================================================== secret ballots
def test_a_secret_paper_ballot_names_nobody_and_its_code_is_the_receipt(world: World) -> None:
    """R17: the sheet of a secret vote holds no person; the paper ballot's receipt is the sheet's code."""
    w = world
    other = second_facilitator(w)
    vote = sv.propose_ratification(w.uow, w.facilitator, w.draft_problem())
    printed = sv.print_paper_batch(w.uow, w.facilitator, vote_id=vote)
    codes = sheets_of(printed.pdf)
    assert printed.sheets == 8  # the two facilitators and six members
    sv.cast_ballot(w.uow, w.members[5], vote, "approve")  # Member 6 votes online
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 1"], option="approve")
    with w.refuses(RuleViolation, "counted alone, it would tell how that person voted") as info:
        sv.attest_paper_batch(w.uow, other, printed.batch_id, returned=1, scan=SCAN, scan_filename="box.jpg",
                              note="Only one came back so far.")
    assert info.value.rule == "R17"
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 2"], option="approve")
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 3"], option="reject")
    with w.refuses(RuleViolation, "already answered or voted online") as info:
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 6"], option="reject")
    assert info.value.rule == "R8"
    with w.refuses(RuleViolation, "paper sheet for this has been entered"):
        sv.cast_ballot(w.uow, w.members[0], vote, "reject")
    with w.refuses(InvalidInput, "Tick the option"):
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 4"], option="adopt")
    with w.db.uow().reading() as s:
        assert s.scalars(select(SecretBallot).where(SecretBallot.vote_id == vote)).all().__len__() == 1
        sheets = s.scalars(select(PaperSheet).where(PaperSheet.batch_id == printed.batch_id)).all()
        assert all(sh.person_id is None and sh.holder_token for sh in sheets)
        payloads = [e.payload for e in s.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(["paper_batch.printed", "paper_sheet.entered"])))]
        assert payloads and not any("approve" in p or "reject" in p for p in payloads)
        assert all(json.loads(p)["after"].get("person_ids") is None and json.loads(p)["after"].get("person_id") is None
                   for p in payloads)
    sv.attest_paper_batch(w.uow, other, printed.batch_id, returned=3, scan=SCAN, scan_filename="box.jpg",
                          note="The other five were not handed in.")
    with w.db.uow().reading() as s:
        paper = {b.receipt: b.option for b in s.scalars(select(SecretBallot).where(
            SecretBallot.vote_id == vote, SecretBallot.channel == "paper"))}
        assert paper == {codes["Member 1"]: "approve", codes["Member 2"]: "approve", codes["Member 3"]: "reject"}
        took_part = set(s.scalars(select(VoteParticipation.person_id).where(VoteParticipation.vote_id == vote)))
        assert took_part == {w.members[0], w.members[1], w.members[2], w.members[5]}
    # The vote says how its ballots came (counts only): 1 online / 3 paper.
    from governance.queries import votes as votes_q
    from governance.rules.evidence import channels_text

    assert channels_text(votes_q.vote_detail(w.uow, w.members[4], vote).channels) == "1 online / 3 paper"


def test_paper_ballots_are_for_panel_votes(world: World) -> None:
    w = world
    _, pilot = w.pilot_in_use()
    w.pass_window()
    w.survey(pilot, [(m, VERY) for m in w.members])
    vote = sv.open_outcome_vote(w.uow, w.facilitator, pilot)
    with w.refuses(RuleViolation, "panel votes only"):
        sv.print_paper_batch(w.uow, w.facilitator, vote_id=vote)


def test_paper_answers_count_like_online_ones_and_show_as_paper_in_the_evidence_and_the_basis(
        survey: tuple[World, int, int]) -> None:
    """R9: the evidence a vote opens with, and the basis it freezes, say n online / n paper."""
    w, pilot, rnd = survey
    for m in w.members[:3]:
        sv.submit_survey_response(w.uow, m, rnd, answer=VERY)
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    for code in sheets_of(printed.pdf).values():
        sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=code, answer=VERY)
    sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=3, scan=SCAN, scan_filename="s.pdf")
    sv.close_survey_round(w.uow, w.commissioner, rnd)
    from governance.queries import pilots as pilots_q
    from governance.storage.models import Decision, Vote

    evidence = pilots_q.pilot_detail(w.uow, w.commissioner, pilot).evidence
    assert evidence.channels == {"online": 3, "paper": 3} and evidence.channels_text == "3 online / 3 paper"
    assert evidence.indispensability.n == 6 and evidence.indispensability.very_disappointed == 6
    vote = sv.open_outcome_vote(w.uow, w.facilitator, pilot)
    for person in [w.facilitator, *w.members, w.commissioner, w.steering]:
        sv.cast_ballot(w.uow, person, vote, "iterate")
    w.close_at_deadline(vote)
    with w.db.uow().reading() as s:
        assert json.loads(s.get(Vote, vote).evidence_json)["channels"] == {"online": 3, "paper": 3}
        basis = json.loads(s.scalar(select(Decision.basis_json).where(Decision.vote_id == vote)))
        assert basis["survey_channels"] == {"online": 3, "paper": 3}
    from governance.queries import votes as votes_q

    [row] = votes_q.decisions_page(w.uow, w.auditor).rows  # the Audit page's declarations export reads these
    assert row.survey_channels == {"online": 3, "paper": 3}


def test_the_database_keeps_an_attested_batch_final(survey: tuple[World, int, int]) -> None:
    """R18: an attested batch, its sheets and its certificate are not edited behind the app's back."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    w, _, rnd = survey
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    code = sheets_of(printed.pdf)["Member 1"]
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=code, answer=NOT)
    sv.attest_paper_batch(w.uow, w.steering, printed.batch_id, returned=1, scan=SCAN, scan_filename="s.pdf",
                          note="Five sheets stayed at the clinic.")
    for sql in ("UPDATE paper_sheet SET answers_json = '{\"answer\": \"very_disappointed\"}'",
                "UPDATE paper_certificate SET mismatch = ''", "DELETE FROM paper_sheet",
                "UPDATE paper_batch SET attested_by = NULL", "UPDATE survey_response SET channel = 'online'"):
        with pytest.raises(DBAPIError), w.db.engine.begin() as conn:
            conn.execute(text(sql))


def test_once_my_paper_form_is_entered_nothing_asks_me_to_answer_online(survey: tuple[World, int, int]) -> None:
    """The use case refuses an online answer after a paper entry (never both): so Home, Evaluate
    (and the light path, which reads them) and the reminders stop asking for one — before the
    batch is attested too, since the entry already decides."""
    from governance.queries import evaluate as evaluate_q, home as home_q
    from governance.rules.reminders import SURVEY_OPEN
    from governance.services.reminders import due_reminders

    w, _, rnd = survey
    member, other = w.members[0], w.members[1]
    printed = sv.print_paper_batch(w.uow, w.facilitator, round_id=rnd)
    codes = sheets_of(printed.pdf)

    def asked(person: int) -> tuple[bool, bool, bool]:
        return (rnd in [s.id for s in home_q.my_agenda(w.uow, person).surveys],
                rnd in [s.round_id for s in evaluate_q.my_surveys(w.uow, person)],
                any(r.person_id == person and r.kind == SURVEY_OPEN for r in due_reminders(w.uow)))

    assert asked(member) == (True, True, True)
    sv.enter_paper_sheet(w.uow, w.facilitator, printed.batch_id, code=codes["Member 1"], answer=VERY)
    assert asked(member) == (False, False, False)
    assert asked(other) == (True, True, True)
    with w.refuses(RuleViolation, "paper"):
        sv.submit_survey_response(w.uow, member, rnd, answer=VERY)
