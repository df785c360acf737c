"""The organisation as ``services.people`` and ``services.evaluation.adopt_charter`` write it:
the first administrator and charter, people, programmes, panels and members, leavers."""
from __future__ import annotations

from bench.bulk import db_ts
from bench.generate.core import CharterRT, EmitterCore, moment
from bench.plan import ACCOUNT_PASSWORD, CHARTER_V2
from governance.identity.passwords import hash_password
from governance.record.events import people as events
from governance.rules.charter import CharterTerms, validate_charter
from governance.services.setup import FIRST_CHARTER_REASON, SIGN_IN_PASSWORD
from governance.vocabulary import PanelRole, Role

SECOND_CHARTER_REASON = ("Steering quorum lowered to 40 % and a faster response to frontline feedback, agreed "
                         "with panels.")
LEAVER_REASON = "Left the organisation."
PROGRAMME_DESCRIPTION = "Where pilots may happen in this area."


class PeopleEmitter(EmitterCore):
    """People, roles, panels and the charter."""

    password_hash = ""
    #: person → (created at, password hash): person rows are written at the end, when ``active`` is final.
    person_rows: dict[int, tuple[int, str | None]]

    def initialise(self) -> None:
        """``initialise_organisation``: the first administrator, then charter version 1."""
        pl = self.pl
        self.person_rows = {}
        self.password_hash = hash_password(ACCOUNT_PASSWORD)
        admin = pl.admin
        self.put("organisation", {"id": 1, "name": self.organisation, "created_at": db_ts(self.now())})
        self._person_row(admin, self.password_hash)
        self.w.add("person_role", (admin, Role.ADMIN.value))
        self.log(admin, events.organisation_initialised(person_id=admin, name=pl.names[admin],
                                                         email=pl.emails[admin], roles=[Role.ADMIN],
                                                         organisation=self.organisation,
                                                         password=SIGN_IN_PASSWORD))
        self._adopt(CharterTerms(), admin, FIRST_CHARTER_REASON, before=None)

    def _adopt(self, terms: CharterTerms, by: int, reason: str, *, before: CharterTerms | None) -> None:
        cid = self.next_id("charter")
        t = self.now()
        version = len(self.charters) + 1
        self.put("charter", {"id": cid, "version": version, **terms.row_values(), "adopted_by": by,
                             "adopted_at": db_ts(t), "reason": reason})
        self.charters.append(CharterRT(cid, version, terms, t))
        self.log(by, events.charter_adopted(charter_id=cid, version=version, terms=terms.as_dict(), reason=reason,
                                            before_terms=before.as_dict() if before is not None else None))

    def adopt_charter_v2(self) -> None:
        """``adopt_charter`` by steering, half-way through the timeline."""
        current = self.charter.terms
        adopted = validate_charter(**{**current.as_dict(), **CHARTER_V2})
        self._adopt(adopted, self.pl.steering[0], SECOND_CHARTER_REASON, before=current)

    def _person_row(self, pid: int, password_hash: str | None) -> None:
        self.person_rows[pid] = (self.now(), password_hash)

    def create_person(self, pid: int) -> None:
        """``create_person`` by the administrator (the initial import)."""
        pl = self.pl
        roles = sorted(Role(r) for r in pl.roles[pid])
        pw = self.password_hash if pid in pl.accounts.values() else None
        self._person_row(pid, pw)
        for role in roles:
            self.w.add("person_role", (pid, role.value))
        self.log(pl.admin, events.person_created(person_id=pid, name=pl.names[pid], email=pl.emails[pid],
                                                 roles=roles, password_set=pw is not None))

    def deactivate(self, pid: int) -> None:
        self.inactive.add(pid)
        self.log(self.pl.admin, events.person_deactivated(person_id=pid, reason=LEAVER_REASON))

    def create_programme(self, i: int) -> None:
        t = self.now()
        name = self.pl.programmes[i - 1]
        self.w.add("programme", (i, name, PROGRAMME_DESCRIPTION, db_ts(t)))
        self.log(self.pl.admin, events.programme_created(programme_id=i, name=name,
                                                         description=PROGRAMME_DESCRIPTION, created_at=moment(t)))

    def create_panel(self, p: int) -> None:
        pl = self.pl
        t = self.now()
        pid = p + 1
        self.w.add("panel", (pid, pl.panel_names[p], pl.panel_area[p], pl.panel_site[p], pl.panel_programme[p],
                             db_ts(t)))
        self.log(pl.admin, events.panel_created(panel_id=pid, name=pl.panel_names[p], area=pl.panel_area[p],
                                                site=pl.panel_site[p], programme_id=pl.panel_programme[p],
                                                created_at=moment(t)))

    def add_member(self, p: int, person: int) -> None:
        pl = self.pl
        role = PanelRole.FACILITATOR if person in pl.facilitators_of[p] else PanelRole.MEMBER
        self.w.add("panel_membership", (p + 1, person, role.value, db_ts(self.now())))
        self.log(pl.admin, events.panel_member_added(panel_id=p + 1, person_id=person, name=pl.names[person],
                                                     role=role))

    def finish_people(self) -> None:
        """Every person row, now that who left is final."""
        pl = self.pl
        for pid, (t, password) in self.person_rows.items():
            self.put("person", {"id": pid, "name": pl.names[pid], "email": pl.emails[pid], "password_hash": password,
                                "password_temporary": False, "active": pid not in self.inactive,
                                "created_at": db_ts(t)})
