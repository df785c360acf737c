"""A small organisation for tests, built through the use cases themselves.

``World`` creates people in every role, one panel, the default charter, and
offers steps that move a problem and a pilot through their lifecycles.
``refuses`` asserts a refusal *and* that nothing at all was written.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select, text

from governance import services as sv
from governance.storage.db import Database, FixedClock, UnitOfWork
from governance.storage.models import AuditEvent, Base
from governance.vocabulary import PanelRole, SurveyAnswer

PASSWORD = "correct horse battery"


class World:
    def __init__(self, db: Database, clock: FixedClock, *, frontline: int = 6) -> None:
        self.db = db
        self.clock = clock
        self.admin = sv.initialise_organisation(self.uow, admin_name="Ada Admin",
                                                admin_email="ada@example.org", admin_password=PASSWORD)
        self.facilitator = self.person("Fiona Facilitator", ["frontline", "facilitator"])
        self.members = [self.person(f"Member {i}", ["frontline"]) for i in range(1, frontline + 1)]
        self.commissioner = self.person("Carl Commissioner", ["commissioning"])
        self.steering = self.person("Stella Steering", ["steering"])
        self.auditor = self.person("Aude Auditor", ["auditor"])
        self.outsider = self.person("Olga Outsider", ["frontline"])
        self.panel = sv.create_panel(self.uow, self.admin, name="Riverside Clinic Panel",
                                     area="Health", site="Riverside")
        sv.add_panel_member(self.uow, self.admin, self.panel, self.facilitator, PanelRole.FACILITATOR)
        for m in self.members:
            sv.add_panel_member(self.uow, self.admin, self.panel, m)

    # ------------------------------------------------------------ basics
    @property
    def uow(self) -> UnitOfWork:
        return self.db.uow()

    def person(self, name: str, roles: list[str], password: str | None = None) -> int:
        email = name.lower().replace(" ", ".") + "@example.org"
        return sv.create_person(self.uow, self.admin, name=name, email=email, roles=roles,
                                password=password)

    @property
    def panel_voters(self) -> list[int]:
        return [self.facilitator, *self.members]

    def today(self) -> date:
        return self.clock.now().date()

    # ------------------------------------------------------- fingerprints
    def fingerprint(self) -> str:
        """A hash of every row of every table: equal before and after = nothing written."""
        digest = hashlib.sha256()
        with self.db.engine.connect() as conn:
            for table in sorted(Base.metadata.tables):
                cols = Base.metadata.tables[table].columns
                order = ", ".join(c.name for c in cols)
                for row in conn.execute(text(f"SELECT {order} FROM {table} ORDER BY {order}")):
                    digest.update(repr(tuple(row)).encode())
                digest.update(table.encode())
        return digest.hexdigest()

    def audit_count(self) -> int:
        with self.db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(AuditEvent)).scalar_one()

    @contextmanager
    def refuses(self, error: type[BaseException], match: str | None = None) -> Iterator[Any]:
        """The block must raise ``error`` (message matching ``match``) and write nothing."""
        before = self.fingerprint()
        with pytest.raises(error, match=match) as info:
            yield info
        assert self.fingerprint() == before, "a refused action wrote something"

    # ------------------------------------------------------------ problems
    def draft_problem(self, title: str = "Re-keying referral letters",
                      statement: str = "Every Tuesday afternoon we re-key referral letters into two "
                                       "systems.") -> int:
        return sv.draft_problem(self.uow, self.members[0], panel_id=self.panel, title=title,
                                statement=statement)

    def add_criterion(self, problem_id: int, name: str = "Minutes re-keying per week", **kw: Any) -> int:
        fields = dict(definition="Time the clinic team spends re-keying letters.",
                      measurement_method="Timesheet sample, two weeks a month.", unit="minutes",
                      direction="lower_is_better", target=60, minimum_evidence=4) | kw
        return sv.add_criterion(self.uow, self.members[0], problem_id, name=name, **fields)

    def close_at_deadline(self, vote_id: int, by: int | None = None) -> int | None:
        """Close a vote as R16 allows: early when everyone eligible has voted, otherwise once its
        deadline has passed (the clock moves on to it). Returns the decision id, if any."""
        from governance.errors import RuleViolation
        from governance.storage.models import Vote

        closer = by or self.facilitator
        try:
            return sv.close_vote(self.uow, closer, vote_id, statement="The result stands.")
        except RuleViolation as exc:
            if exc.rule != "R16":
                raise
        with self.db.uow().reading() as s:
            deadline = s.get(Vote, vote_id).deadline
        self.clock.set(max(self.clock.now(), deadline))
        return sv.close_vote(self.uow, closer, vote_id, statement="The result stands.")

    def pass_panel_vote(self, vote_id: int, approve: int | None = None) -> None:
        voters = self.panel_voters
        approve = len(voters) if approve is None else approve
        for i, pid in enumerate(voters):
            sv.cast_ballot(self.uow, pid, vote_id, "approve" if i < approve else "reject")
        sv.close_vote(self.uow, self.facilitator, vote_id, statement="The result stands.")

    def ratified_problem(self, **kw: Any) -> int:
        problem = self.draft_problem(**kw)
        self.add_criterion(problem)
        self.pass_panel_vote(sv.propose_ratification(self.uow, self.facilitator, problem))
        return problem

    def locked_problem(self, **kw: Any) -> int:
        problem = self.ratified_problem(**kw)
        self.pass_panel_vote(sv.propose_criteria_lock(self.uow, self.facilitator, problem))
        return problem

    # --------------------------------------------------------------- pilots
    def register_pilot(self, problem_id: int, title: str = "Referral letter assistant",
                       metrics: list[dict[str, Any]] | None = None) -> int:
        metrics = metrics if metrics is not None else [
            dict(name="Extraction accuracy", definition="Fields extracted correctly.", unit="percent",
                 direction="higher_is_better", target=95),
            dict(name="Minutes saved per letter", definition="Clerk time saved.", unit="minutes",
                 direction="higher_is_better", target=4)]
        return sv.register_pilot(self.uow, self.commissioner, problem_id=problem_id, title=title,
                                 description="Reads a referral letter and fills both systems.",
                                 owner_id=self.commissioner, metrics=metrics)

    def open_ballots(self) -> None:
        """A charter under which every group votes on the record by name (no secret groups, R17)."""
        sv.adopt_charter(self.uow, self.steering, reason="Open ballots for this test organisation.",
                         secret_groups=[])

    def join_team(self, pilot_id: int, person_id: int, by: int | None = None) -> None:
        """Invite someone to the pilot's team and have them accept (R15: their own act)."""
        invitation = sv.add_team_member(self.uow, by or self.commissioner, pilot_id, person_id)
        sv.accept_team_invitation(self.uow, person_id, invitation)

    def make_ready(self, pilot_id: int) -> None:
        for item, detail, on in (("training_plan", "Two 1-hour sessions per role.", None),
                                 ("old_process_retirement", "Manual re-keying stops.", self.today()),
                                 ("escalation_path", "Clinic lead, then vendor hotline.", None),
                                 ("low_connectivity_test", "Tested at Hillside on 3G.", None)):
            sv.record_readiness(self.uow, self.commissioner, pilot_id, item, detail=detail, on_date=on)

    def pilot_in_use(self, roster: list[int] | None = None, **kw: Any) -> tuple[int, int]:
        """(problem, pilot) with the pilot in real use."""
        problem = self.locked_problem(**kw)
        pilot = self.register_pilot(problem)
        sv.add_to_roster(self.uow, self.commissioner, pilot, roster or self.members)
        self.make_ready(pilot)
        sv.start_real_use(self.uow, self.commissioner, pilot)
        return problem, pilot

    def pass_window(self, days: int = 31) -> None:
        self.clock.advance(days=days)

    def survey(self, pilot_id: int, answers: list[tuple[int, str]], close: bool = True) -> int:
        rnd = sv.open_survey_round(self.uow, self.commissioner, pilot_id)
        for person_id, answer in answers:
            sv.submit_survey_response(self.uow, person_id, rnd, answer=answer)
        if close:
            sv.close_survey_round(self.uow, self.commissioner, rnd)
        return rnd

    def rostered_users(self, n: int, prefix: str = "User") -> list[int]:
        return [self.person(f"{prefix} {i}", ["frontline"]) for i in range(1, n + 1)]


VERY = SurveyAnswer.VERY_DISAPPOINTED.value
SOMEWHAT = SurveyAnswer.SOMEWHAT_DISAPPOINTED.value
NOT = SurveyAnswer.NOT_DISAPPOINTED.value
