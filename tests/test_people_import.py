"""People and panels by file (issue 13, item 3): a preview that lists every
problem by line before anything is written, one transaction with its audit
events, re-importing changes nothing, emails normalised and unique. The
20,000-row timing lives in the benchmark (``python -m bench.people_import``).
"""
from __future__ import annotations

import json

from sqlalchemy import func, select

from governance import services as sv
from governance.csvfiles import FileRejected
from governance.errors import PermissionDenied
from governance.record.log import verify_chain
from governance.storage.models import AuditEvent, Panel, PanelMembership, Person, PersonRole
from tests.world import World

HEADER = "name,email,roles,panel,panel_role\n"
GOOD = (HEADER
        + "Abena Adjei,Abena.Adjei@Health.example,frontline,Riverside Clinic Panel,\n"
        + "Liam Murphy,liam.murphy@health.example,frontline;facilitator,Harbour Ward Panel,facilitator\n"
        + "Liam Murphy,LIAM.MURPHY@health.example,frontline;facilitator,Riverside Clinic Panel,member\n"
        + "Chiara Rossi,chiara.rossi@health.example,commissioning,,\n"
        + "Member One,member.1@example.org,frontline | steering,,\n")


def imported(world: World, content: str, name: str = "staff.csv"):  # type: ignore[no-untyped-def]
    return sv.import_people(world.uow, world.admin, filename=name, content=content.encode("utf-8"))


def preview(world: World, content: str | bytes, name: str = "staff.csv"):  # type: ignore[no-untyped-def]
    data = content.encode("utf-8") if isinstance(content, str) else content
    return sv.preview_people_import(world.uow, world.admin, filename=name, content=data)


def test_the_preview_says_what_would_change_and_writes_nothing(world: World) -> None:
    before = world.fingerprint()
    plan = preview(world, GOOD)
    assert plan.ok and not plan.applied and world.fingerprint() == before
    assert [p["email"] for p in plan.new_people] == ["abena.adjei@health.example", "liam.murphy@health.example",
                                                    "chiara.rossi@health.example"]
    assert plan.roles_added == [{"line": 6, "person_id": world.members[0], "email": "member.1@example.org",
                                 "before": ["frontline"], "after": ["frontline", "steering"]}]
    assert plan.new_panels == ["Harbour Ward Panel"]
    assert [(m["email"], m["panel"], m["role"]) for m in plan.memberships] == [
        ("abena.adjei@health.example", "Riverside Clinic Panel", "member"),
        ("liam.murphy@health.example", "Harbour Ward Panel", "facilitator"),
        ("liam.murphy@health.example", "Riverside Clinic Panel", "member")]
    assert "3 new people" in plan.summary()


def test_every_problem_is_listed_by_line_and_nothing_is_imported(world: World) -> None:
    bad = (HEADER
           + "Ana Lima,ana.lima@health.example,frontline,,\n"
           + "Ana\u200bLima,ana.lima2@health.example,frontline,,\n"            # invisible character
           + "Rosa Moreno,rosa\u202e@health.example,frontline,,\n"            # right-to-left override
           + "Pavel Novak,not-an-email,frontline,,\n"
           + "Sana Qureshi,sana@health.example,superuser,,\n"
           + "Ewan Walsh,ewan@health.example,commissioning,Riverside Clinic Panel,\n"  # not frontline
           + "Ruth Carver,ruth@health.example,frontline,Riverside Clinic Panel,facilitator\n"
           + "Ana Lima-Silva,ana.lima@health.example,frontline,,\n"          # one email, two names
           + "Kofi Boateng,kofi@health.example,frontline,,chair\n"
           + "Olga Outsider,olga.outsider@example.org,frontline,,\n"        # deactivated below
           + "Jonas Berg,jonas@health.example,frontline,Riverside Clinic Panel,\n"
           + "Jonas Berg,jonas@health.example,frontline,riverside clinic PANEL,\n")  # repeats
    sv.deactivate_person(world.uow, world.admin, world.outsider, reason="Left the organisation.")
    plan = preview(world, bad)
    lines = [n for n, _ in plan.problems]
    assert lines == [3, 4, 5, 6, 7, 8, 9, 10, 11, 13], plan.problems
    text = dict(plan.problems)
    assert "invisible character (U+200B ZERO WIDTH SPACE)" in text[3]
    assert "text-direction control (U+202E RIGHT-TO-LEFT OVERRIDE)" in text[4]
    assert "'not-an-email' is not an email address" in text[5]
    assert "role 'superuser' is not known" in text[6]
    assert "no frontline or facilitator role" in text[7]
    assert "cannot facilitate Riverside Clinic Panel without the facilitator role" in text[8]
    assert "is 'Ana Lima' on line 2 but 'Ana Lima-Silva' here" in text[9]
    assert "panel_role 'chair' is given without a panel" in text[10]
    assert "was deactivated; reactivate them" in text[11]
    assert "repeats line 12" in text[13]
    with world.refuses(FileRejected, match="line 3: .*line 13: repeats line 12"):
        imported(world, bad)


def test_one_transaction_with_its_audit_events_then_the_same_file_changes_nothing(world: World) -> None:
    events_before = world.audit_count()
    plan = imported(world, GOOD)
    assert plan.applied and plan.changes == 9  # 3 new, 1 renamed, 1 more roles, 1 panel, 3 memberships
    with world.db.uow().reading() as s:
        liam = s.scalars(select(Person).where(Person.email == "liam.murphy@health.example")).one()
        assert sorted(s.scalars(select(PersonRole.role).where(PersonRole.person_id == liam.id))) == [
            "facilitator", "frontline"]
        harbour = s.scalars(select(Panel).where(Panel.name == "Harbour Ward Panel")).one()
        assert s.get(PanelMembership, (harbour.id, liam.id)).panel_role == "facilitator"
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.seq > events_before)
                                 .order_by(AuditEvent.seq)))
        assert actions == (["panel.created"] + ["person.created"] * 3 + ["person.renamed", "person.roles_changed"]
                           + ["panel.member_added"] * 3 + ["people.imported"])
        summary = json.loads(s.scalars(select(AuditEvent.payload).where(AuditEvent.action == "people.imported")
                                       ).one())["after"]
        assert summary["filename"] == "staff.csv" and summary["created"] == 3 and len(summary["sha256"]) == 64
        assert verify_chain(s).ok
    before = world.fingerprint()
    again = imported(world, GOOD.replace("Abena.Adjei@Health.example", "abena.adjei@health.example"))
    assert not again.changes and not again.applied and "nothing to change" in again.summary()
    assert world.fingerprint() == before


def test_emails_are_normalised_so_one_person_is_one_email(world: World) -> None:
    fullwidth = "ａｂｅｎａ@health.example"  # NFKC: abena@health.example
    imported(world, HEADER + f"Abena Adjei,{fullwidth},frontline,,\n")
    with world.db.uow().reading() as s:
        assert s.scalars(select(Person.email).where(Person.name == "Abena Adjei")).one() == "abena@health.example"
    plan = preview(world, HEADER + "Abena Adjei,ABENA@health.example,frontline,,\n")
    assert plan.ok and not plan.changes
    with world.refuses(FileRejected, match="invisible character"):
        imported(world, HEADER + "Abena Adjei,abena\u200d@health.example,frontline,,\n")


def test_a_rename_is_recorded_and_roles_are_never_removed(world: World) -> None:
    plan = imported(world, HEADER + "Member Uno,member.1@example.org,steering,,\n")
    assert plan.renamed[0]["before"] == "Member 1"
    with world.db.uow().reading() as s:
        assert s.get(Person, world.members[0]).name == "Member Uno"
        assert sorted(s.scalars(select(PersonRole.role).where(PersonRole.person_id == world.members[0]))) == [
            "frontline", "steering"]


def test_only_administrators_import_and_bad_files_are_refused(world: World) -> None:
    with world.refuses(PermissionDenied):
        imported_as = sv.import_people
        imported_as(world.uow, world.steering, filename="staff.csv", content=GOOD.encode())
    for content, reason in ((b"", "the file is empty"), (b"name,email\nA,a@b.org\n", "the header must be exactly"),
                            ("Ana,ana@x.org,frontline,,\n".encode("utf-16"), "not UTF-8")):
        assert reason in " ".join(m for _, m in preview(world, content).problems)
        with world.refuses(FileRejected, match=reason):
            sv.import_people(world.uow, world.admin, filename="staff.csv", content=content)
    with world.db.uow().reading() as s:
        assert s.scalar(select(func.count()).select_from(Person)) == 12
