"""People and panels by file: a CSV of staff, previewed line by line, then imported
in one transaction with its audit events.

Columns, exactly: ``name,email,roles,panel,panel_role``.

* ``roles`` — one or more of frontline, facilitator, commissioning, steering,
  auditor, admin, separated by ``;`` (or ``|``).
* ``panel`` — optional: the panel (created if it does not exist yet) the person
  belongs to; ``panel_role`` member (the default) or facilitator. A person in
  several panels has one line per panel, with the same name and roles.

An email already in the organisation updates that person: a new name is
recorded as a rename; roles and panel memberships in the file are *added*
(an import never removes a role or a membership — removals are decisions made
one by one in Admin, under their own rules). Emails are normalised (NFKC,
lower case, no invisible characters) so "Ana@X.org" and "ana@x.org" are one
person. Re-importing the same file changes nothing and writes nothing.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select

from governance.csvfiles import FileRejected, parse_csv
from governance.errors import InvalidInput
from governance.identity.actors import require
from governance.record.events import Event, people as events
from governance.record.log import append_many
from governance.rules.permissions import Action, role_conflict
from governance.services._base import need, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import Panel, PanelMembership, Person, PersonRole
from governance.validation import NAME_MAX, TITLE_MAX, email as email_address, text
from governance.vocabulary import PanelRole, Role, label

COLUMNS = ("name", "email", "roles", "panel", "panel_role")
_ROLE_NAMES = {**{r.value: r for r in Role}, **{label(r).lower(): r for r in Role}}
_SPLIT = re.compile(r"[;|]")
PANEL_PEOPLE = frozenset({Role.FRONTLINE, Role.FACILITATOR})


@dataclass(frozen=True)
class Line:
    """One valid line of the file."""

    line: int
    name: str
    email: str
    roles: frozenset[Role]
    panel: str | None
    panel_role: PanelRole | None


@dataclass
class ImportPlan:
    """What an import would do (the preview) — or did."""

    filename: str
    sha256: str = ""
    rows: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    new_people: list[dict[str, Any]] = field(default_factory=list)
    renamed: list[dict[str, Any]] = field(default_factory=list)
    roles_added: list[dict[str, Any]] = field(default_factory=list)
    new_panels: list[str] = field(default_factory=list)
    memberships: list[dict[str, Any]] = field(default_factory=list)
    applied: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> int:
        return (len(self.new_people) + len(self.renamed) + len(self.roles_added) + len(self.new_panels)
                + len(self.memberships))

    def summary(self) -> str:
        if self.problems:
            return (f"{len(self.problems):,} problem(s) in '{self.filename}'; nothing was imported. Fix them "
                    "and upload the file again.")
        if not self.changes:
            return f"'{self.filename}' matches what the organisation already holds: nothing to change."
        verb = "Imported" if self.applied else "Would import"
        return (f"{verb} '{self.filename}' ({self.rows:,} lines): {len(self.new_people):,} new people, "
                f"{len(self.renamed):,} renamed, {len(self.roles_added):,} given more roles, "
                f"{len(self.new_panels):,} new panels, {len(self.memberships):,} panel memberships added or "
                "changed.")


def _roles(cell: str) -> frozenset[Role]:
    found: set[Role] = set()
    for raw in _SPLIT.split(cell):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in _ROLE_NAMES:
            raise ValueError(f"role '{raw.strip()[:40]}' is not known; use {', '.join(r.value for r in Role)} "
                             "(separated by ;)")
        found.add(_ROLE_NAMES[name])
    if not found:
        raise ValueError("give at least one role (e.g. frontline)")
    return frozenset(found)


def _parse(row: dict[str, str]) -> dict[str, Any]:
    try:
        name = text(row["name"], "Name", max_len=NAME_MAX)
        address = email_address(row["email"])
        panel = text(row["panel"], "Panel", max_len=TITLE_MAX, required=False) or None
    except InvalidInput as exc:
        raise ValueError(str(exc).rstrip(".")) from None
    roles = _roles(row["roles"])
    cell = row["panel_role"].strip().lower()
    if panel is None:
        if cell:
            raise ValueError(f"panel_role '{row['panel_role'][:20]}' is given without a panel")
        panel_role = None
    else:
        try:
            panel_role = PanelRole(cell or PanelRole.MEMBER)
        except ValueError:
            raise ValueError(f"panel_role '{row['panel_role'][:20]}' is not known; use member or "
                             "facilitator") from None
    return {"name": name, "email": address, "roles": roles, "panel": panel, "panel_role": panel_role}


def _parse_or_note(row: dict[str, str]) -> dict[str, Any]:
    try:
        return _parse(row)
    except ValueError as exc:
        return {"_error": str(exc)}


def _read(filename: str, content: bytes) -> tuple[str, str, list[Line], list[tuple[int, str]]]:
    """The file's valid lines and the problems of the others (so the preview can go on
    and list every problem, of the lines and of the file as a whole, at once)."""
    parsed = parse_csv(filename, content, COLUMNS, _parse_or_note)
    problems = [(r["_line"], r["_error"]) for r in parsed.rows if "_error" in r]
    lines = [Line(r["_line"], r["name"], r["email"], r["roles"], r["panel"], r["panel_role"])
             for r in parsed.rows if "_error" not in r]
    return parsed.filename, parsed.sha256, lines, problems


@dataclass
class _Known:
    """What the organisation already holds about the file's people and panels."""

    people: dict[str, Any]
    held: dict[int, set[str]]
    panels: dict[str, tuple[int, str]]
    members: dict[tuple[int, int], str]


def _plan(s: Any, filename: str, sha256: str, lines: list[Line],
          line_problems: list[tuple[int, str]]) -> ImportPlan:
    plan = ImportPlan(filename, sha256, len(lines) + len(line_problems))
    plan.problems.extend(line_problems)
    first, roles_of = _the_file_against_itself(lines, plan.problems)
    known = _known(s, list(first))
    _plan_people(plan, first, roles_of, known)
    _plan_memberships(plan, lines, roles_of, known)
    plan.problems.sort()
    return plan


def _the_file_against_itself(lines: list[Line], problems: list[tuple[int, str]]
                             ) -> tuple[dict[str, Line], dict[str, set[Role]]]:
    """One person per email, one line per (email, panel): each person's first line and all their roles."""
    first: dict[str, Line] = {}
    roles_of: dict[str, set[Role]] = defaultdict(set)
    seen_panel: dict[tuple[str, str], int] = {}
    for ln in lines:
        earlier = first.setdefault(ln.email, ln)
        if earlier is not ln and earlier.name != ln.name:
            problems.append((ln.line, f"{ln.email} is '{earlier.name}' on line {earlier.line} but "
                                      f"'{ln.name}' here; one email is one person"))
        roles_of[ln.email] |= ln.roles
        if ln.panel is not None:
            key = (ln.email, ln.panel.lower())
            if key in seen_panel:
                problems.append((ln.line, f"repeats line {seen_panel[key]} ({ln.email} in {ln.panel})"))
            seen_panel.setdefault(key, ln.line)
    return first, roles_of


def _known(s: Any, emails: list[str]) -> _Known:
    """The file's people as the organisation knows them, in chunks (IN lists stay bounded)."""
    people: dict[str, Any] = {}
    for chunk in range(0, len(emails), 5000):
        for row in s.execute(select(Person.id, Person.email, Person.name, Person.active).where(
                Person.email.in_(emails[chunk:chunk + 5000]))):
            people[row.email] = row
    held: dict[int, set[str]] = defaultdict(set)
    ids = [p.id for p in people.values()]
    for chunk in range(0, len(ids), 5000):
        for pid, role in s.execute(select(PersonRole.person_id, PersonRole.role).where(
                PersonRole.person_id.in_(ids[chunk:chunk + 5000]))):
            held[pid].add(role)
    panels = {name.lower(): (pid, name) for pid, name in s.execute(select(Panel.id, Panel.name))}
    members: dict[tuple[int, int], str] = {}
    for chunk in range(0, len(ids), 5000):
        for panel_id, pid, role in s.execute(select(PanelMembership.panel_id, PanelMembership.person_id,
                                                    PanelMembership.panel_role).where(
                PanelMembership.person_id.in_(ids[chunk:chunk + 5000]))):
            members[(panel_id, pid)] = role
    return _Known(people, held, panels, members)


def _plan_people(plan: ImportPlan, first: dict[str, Line], roles_of: dict[str, set[Role]],
                 known: _Known) -> None:
    """New people, renames and added roles; deactivated people and R15 conflicts are problems."""
    for email, ln in first.items():
        existing = known.people.get(email)
        wanted = roles_of[email]
        if existing is not None and not existing.active:
            plan.problems.append((ln.line, f"{email} ({existing.name}) was deactivated; reactivate them in "
                                           "Admin → People first, or leave them out of the file"))
            continue
        held = set(known.held[existing.id]) if existing is not None else set()
        clash = role_conflict(wanted | held)
        if clash is not None:
            plan.problems.append((ln.line, f"{email}: {clash} (R15)"))
            continue
        if existing is None:
            plan.new_people.append({"line": ln.line, "name": ln.name, "email": email,
                                    "roles": sorted(wanted)})
            continue
        if existing.name != ln.name:
            plan.renamed.append({"line": ln.line, "person_id": existing.id, "email": email,
                                 "before": existing.name, "after": ln.name})
        if wanted - held:
            plan.roles_added.append({"line": ln.line, "person_id": existing.id, "email": email,
                                     "before": sorted(held), "after": sorted(held | wanted)})


def _plan_memberships(plan: ImportPlan, lines: list[Line], roles_of: dict[str, set[Role]],
                      known: _Known) -> None:
    """Memberships, line by line (a person may be in several panels); new panels by name."""
    new_panels: dict[str, str] = {}
    for ln in lines:
        if ln.panel is None:
            continue
        existing = known.people.get(ln.email)
        if existing is not None and not existing.active:
            continue
        after = roles_of[ln.email] | (set(known.held[existing.id]) if existing else set())
        if not after & PANEL_PEOPLE:
            plan.problems.append((ln.line, f"{ln.email} has no frontline or facilitator role; panels are "
                                           "made of frontline people (R2)"))
            continue
        if ln.panel_role == PanelRole.FACILITATOR and Role.FACILITATOR not in after:
            plan.problems.append((ln.line, f"{ln.email} cannot facilitate {ln.panel} without the "
                                           "facilitator role; add it to their roles"))
            continue
        found = known.panels.get(ln.panel.lower())
        if found is None:
            new_panels.setdefault(ln.panel.lower(), ln.panel)
            current = None
        else:
            current = known.members.get((found[0], existing.id)) if existing else None
        if current == ln.panel_role:
            continue
        plan.memberships.append({"line": ln.line, "email": ln.email, "panel": found[1] if found else ln.panel,
                                 "role": str(ln.panel_role), "before": current})
    plan.new_panels = sorted(new_panels.values(), key=str.lower)


def preview_people_import(uow: UnitOfWork, actor_id: int, *, filename: str, content: bytes) -> ImportPlan:
    """What importing this file would do, and every problem by line — writing nothing."""
    with uow.reading() as s:
        require(s, actor_id, Action.MANAGE_PEOPLE)
        require(s, actor_id, Action.MANAGE_PANELS)
        try:
            name, digest, lines, problems = _read(filename, content)
        except FileRejected as exc:
            plan = ImportPlan(filename if isinstance(filename, str) else "upload.csv")
            plan.problems = list(exc.errors)
            return plan
        return _plan(s, name, digest, lines, problems)


@use_case
def import_people(uow: UnitOfWork, actor_id: int, *, filename: str, content: bytes) -> ImportPlan:
    """Import the file: all of it, in one transaction with its audit events, or nothing
    (``FileRejected`` listing every problem by line). A file that changes nothing writes
    nothing.

    Long on purpose: the writes of one plan, kind by kind, each with its audit events in the
    same order as the preview showed them.
    """
    s = session_of(uow)
    actor = require(s, actor_id, Action.MANAGE_PEOPLE)
    require(s, actor_id, Action.MANAGE_PANELS)
    name, digest, lines, problems = _read(filename, content)
    plan = _plan(s, name, digest, lines, problems)
    if plan.problems:
        raise FileRejected(name, plan.problems)
    if not plan.changes:
        return plan
    now = uow.now()
    out: list[Event] = []
    panel_ids = {n.lower(): pid for pid, n in s.execute(select(Panel.id, Panel.name))}
    for panel_name in plan.new_panels:
        panel = Panel(name=panel_name, area="", site="", programme_id=None, created_at=now)
        s.add(panel)
        s.flush()
        panel_ids[panel_name.lower()] = panel.id
        out.append(events.panel_created(panel_id=panel.id, name=panel.name, area="", site="",
                                        programme_id=None, created_at=now))
    ids: dict[str, int] = {}
    if plan.new_people:
        rows = [{"name": p["name"], "email": p["email"], "password_hash": None, "password_temporary": False,
                 "active": True, "created_at": now} for p in plan.new_people]
        result = s.execute(insert(Person).returning(Person.id, Person.email, sort_by_parameter_order=True),
                           rows)
        ids = {email: pid for pid, email in result}
        s.execute(insert(PersonRole), [{"person_id": ids[p["email"]], "role": r}
                                       for p in plan.new_people for r in p["roles"]])
        for p in plan.new_people:
            out.append(events.person_created(person_id=ids[p["email"]], name=p["name"], email=p["email"],
                                             roles=p["roles"], password_set=False))
    for r in plan.renamed:
        need(s.get(Person, r["person_id"]), "person").name = r["after"]
        out.append(events.person_renamed(person_id=r["person_id"], before=r["before"], after=r["after"]))
    for r in plan.roles_added:
        s.execute(insert(PersonRole), [{"person_id": r["person_id"], "role": role}
                                       for role in sorted(set(r["after"]) - set(r["before"]))])
        out.append(events.roles_changed(person_id=r["person_id"], before=r["before"], after=r["after"]))
    wanted = sorted({m["email"] for m in plan.memberships if m["email"] not in ids})
    existing: dict[str, int] = {}
    for chunk in range(0, len(wanted), 5000):
        existing.update({e: i for e, i in s.execute(select(Person.email, Person.id).where(
            Person.email.in_(wanted[chunk:chunk + 5000])))})
    names = {p["email"]: p["name"] for p in plan.new_people}
    adds = []
    for m in plan.memberships:
        pid = ids.get(m["email"]) or existing[m["email"]]
        panel_id = panel_ids[m["panel"].lower()]
        if m["before"] is None:
            adds.append({"panel_id": panel_id, "person_id": pid, "panel_role": m["role"], "joined_at": now})
            who = names.get(m["email"]) or need(s.get(Person, pid), "person").name
            out.append(events.panel_member_added(panel_id=panel_id, person_id=pid, name=who, role=m["role"]))
        else:
            need(s.get(PanelMembership, (panel_id, pid)), "panel membership").panel_role = m["role"]
            out.append(events.panel_member_role_changed(panel_id=panel_id, person_id=pid, before=m["before"],
                                                        after=m["role"]))
    if adds:
        s.execute(insert(PanelMembership), adds)
    out.append(events.people_imported(filename=name, sha256=digest, rows=plan.rows,
                                      created=len(plan.new_people), updated=len(plan.renamed) + len(
                                          plan.roles_added), memberships=len(plan.memberships),
                                      panels_created=len(plan.new_panels)))
    append_many(s, actor, out, now, uow.keys.record_mac_key())
    plan.applied = True
    return plan

