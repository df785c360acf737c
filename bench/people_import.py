"""The people import at organisation scale (issue 13): 20,000 staff in 100 panels.

    python -m bench.people_import [--rows 20000] [--url URL] [--json people-import.json]

Sets up a fresh organisation (``initialise_organisation``) in a new SQLite file
under ``bench/out/`` (or the empty database ``--url`` names), writes a CSV of
``--rows`` people (one line each; 90 % frontline in one of 100 panels, 5 %
facilitators, the rest commissioning and steering), then times, through the
product's own use cases: the preview, the import (one transaction, one audit
event per person, membership and panel, and the summary), and the same file
again (nothing to change). The target: 20,000 rows in under 60 s on SQLite.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
FIRST = ["Abena", "Liam", "Chiara", "Tariq", "Maeve", "Jonas", "Nadia", "Kofi", "Ruth", "Mateo", "Ifeoma",
         "Declan", "Sana", "Pavel", "Lerato", "Callum", "Noura", "Emeka", "Hanna", "Diego"]
LAST = ["Adjei", "Murphy", "Rossi", "Haddad", "Doyle", "Berg", "Hussain", "Boateng", "Carver", "Silva", "Eze",
        "Walsh", "Qureshi", "Novak", "Dlamini", "Fraser", "Saleh", "Obi", "Lund", "Ortega"]


def people_file(rows: int, panels: int = 100) -> bytes:
    lines = ["name,email,roles,panel,panel_role"]
    for i in range(rows):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i // len(FIRST)) % len(LAST)]} {i:05d}"
        email = f"staff{i:05d}@ministry.example"
        kind = i % 20
        if kind == 0:
            lines.append(f"{name},{email},frontline;facilitator,Panel {i % panels:03d},facilitator")
        elif kind == 1:
            lines.append(f"{name},{email},commissioning,,")
        elif kind == 2 and i % 40 == 2:
            lines.append(f"{name},{email},steering,,")
        else:
            lines.append(f"{name},{email},frontline,Panel {i % panels:03d},member")
    return ("\n".join(lines) + "\n").encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.people_import", description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--url", default=None, help="an empty database (default: a new SQLite file in bench/out/)")
    parser.add_argument("--json", default=None, help="write the figures here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from governance import services as sv
    from governance.record.log import verify_chain
    from governance.storage.db import Database
    from governance.storage.models import AuditEvent, PanelMembership, Person

    url = args.url
    if url is None:
        out = ROOT / "bench" / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / "people-import.db"
        for victim in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            victim.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    db = Database(url)
    db.upgrade()
    admin = sv.initialise_organisation(db.uow(), organisation="Benchmark ministry", admin_name="Bench Admin",
                                       admin_email="admin@ministry.example", country="JM")
    content = people_file(args.rows)
    began = time.perf_counter()
    plan = sv.preview_people_import(db.uow(), admin, filename="staff.csv", content=content)
    preview_s = time.perf_counter() - began
    assert plan.ok, plan.problems[:5]
    began = time.perf_counter()
    done = sv.import_people(db.uow(), admin, filename="staff.csv", content=content)
    import_s = time.perf_counter() - began
    began = time.perf_counter()
    again = sv.import_people(db.uow(), admin, filename="staff.csv", content=content)
    again_s = time.perf_counter() - began
    with db.uow().reading() as s:
        people = s.scalar(select(func.count()).select_from(Person))
        memberships = s.scalar(select(func.count()).select_from(PanelMembership))
        events = s.scalar(select(func.count()).select_from(AuditEvent))
        chain_ok = verify_chain(s).ok
    db.dispose()
    result = {
        "rows": args.rows, "bytes": len(content), "engine": db.dialect,
        "preview_s": round(preview_s, 2), "import_s": round(import_s, 2), "reimport_s": round(again_s, 2),
        "people": people, "memberships": memberships, "panels_created": len(done.new_panels),
        "audit_events": events, "chain_verifies": chain_ok, "reimport_changes": again.changes,
        "target_s": 60, "meets_target": import_s < 60,
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
    }
    print(f"people import on {db.dialect}: {args.rows:,} rows ({len(content) / 1e6:.1f} MB)")
    print(f"  preview   {preview_s:6.2f} s  (every line checked, nothing written)")
    print(f"  import    {import_s:6.2f} s  ({people:,} people, {memberships:,} memberships, "
          f"{len(done.new_panels)} panels, {events:,} audit events; chain verifies: {chain_ok})")
    print(f"  again     {again_s:6.2f} s  ({again.changes} changes: the same file writes nothing)")
    print(f"  target    < 60 s on SQLite: {'met' if import_s < 60 else 'MISSED'}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0 if chain_ok and not again.changes else 1


if __name__ == "__main__":
    raise SystemExit(main())
