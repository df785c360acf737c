"""The scheduled runner: what must happen whoever is or isn't looking.

    python -m governance.jobs run

closes every vote whose deadline has passed, at its deadline (R16),
signs a checkpoint of the audit chain at least daily (R18), and sends the
reminders that are due by email (``services.reminders``; SMTP settings in
``governance.mail``). Idempotent and
safe to run from cron every minute on several replicas at once: one runner
at a time holds a lease in the database; the others see it and stop.
What each run did is kept (``job_run``) and shown on the Admin page.

    * * * * *  cd /srv/governance && DATABASE_URL=… python -m governance.jobs run
"""
from __future__ import annotations

import argparse
import json
import os
import smtplib
import socket
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update

from governance import mail
from governance.errors import GovernanceError
from governance.record.integrity import check
from governance.services.checkpoints import checkpoint_if_due
from governance.services.decisions import close_due_vote, due_votes
from governance.services.reminders import ReminderReport, due_reminders, send_reminders
from governance.storage.db import Database, UnitOfWork, use_case
from governance.storage.models import JobLease, JobRun

LEASE = "scheduled-jobs"
LEASE_FOR = timedelta(minutes=10)


@dataclass
class RunReport:
    """What one run did."""

    ran: bool
    holder: str
    closed_votes: list[int] = field(default_factory=list)
    refused_votes: dict[int, str] = field(default_factory=dict)
    checkpoint: int | None = None
    reason: str = ""
    #: R18: what the integrity check found ("record altered"), shown on Home to steering and auditors.
    alterations: list[str] = field(default_factory=list)
    #: What the reminders step did (``services.reminders.ReminderReport``, as a dict).
    reminders: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        if not self.ran:
            return f"Another runner holds the lease ({self.reason}); nothing to do here."
        parts = [f"closed {len(self.closed_votes)} vote(s)"]
        if self.refused_votes:
            parts.append(f"could not close {len(self.refused_votes)}")
        parts.append(f"checkpoint #{self.checkpoint}" if self.checkpoint else "no checkpoint due")
        parts.append(f"RECORD ALTERED: {len(self.alterations)} finding(s)" if self.alterations else "record intact")
        sent, failed = sum(self.reminders.get("sent", {}).values()), sum(self.reminders.get("failed", {}).values())
        parts.append(f"sent {sent} reminder(s)" + (f", {failed} failed" if failed else ""))
        if self.reminders.get("skipped"):
            parts.append(f"reminders not sent: {self.reminders['skipped']}")
        return "Scheduled jobs ran: " + ", ".join(parts) + "."


@use_case
def _take_lease(uow: UnitOfWork, holder: str) -> str | None:
    """Take the lease (None), or say who holds it."""
    s = uow.session
    assert s is not None
    now = uow.now()
    lease = s.get(JobLease, LEASE)
    if lease is not None and lease.expires_at > now and lease.holder != holder:
        return f"{lease.holder} until {lease.expires_at:%H:%M:%S} UTC"
    if lease is None:
        s.add(JobLease(name=LEASE, holder=holder, expires_at=now + LEASE_FOR))
    else:
        s.execute(update(JobLease).where(JobLease.name == LEASE).values(holder=holder, expires_at=now + LEASE_FOR))
    return None


@use_case
def _release(uow: UnitOfWork, holder: str, started: datetime, report: RunReport) -> None:
    s = uow.session
    assert s is not None
    s.add(JobRun(started_at=started, finished_at=uow.now(), holder=holder,
                 summary=json.dumps(asdict(report), default=str)))
    s.execute(delete(JobLease).where(JobLease.name == LEASE, JobLease.holder == holder))


def run(db: Database, holder: str | None = None) -> RunReport:
    """One run of the scheduled jobs; does nothing while another runner holds the lease."""
    holder = holder or f"{socket.gethostname()}:{os.getpid()}"
    uow = db.uow()
    started = uow.now()
    busy = _take_lease(uow, holder)
    report = RunReport(ran=busy is None, holder=holder, reason=busy or "")
    if busy is not None:
        return report
    try:
        for vote_id in due_votes(uow):
            try:
                close_due_vote(uow, vote_id)
                report.closed_votes.append(vote_id)
            except GovernanceError as exc:
                report.refused_votes[vote_id] = str(exc)
        report.checkpoint = checkpoint_if_due(uow)
        with uow.reading() as session:
            report.alterations = [a.summary for a in check(session)]
        report.reminders = asdict(remind(uow))
    finally:
        _release(uow, holder, started, report)
    return report


def remind(uow: UnitOfWork, env: dict[str, str] | None = None) -> ReminderReport:
    """Send the reminders that are due, through the configured SMTP server."""
    try:
        settings = mail.settings_from(env)
    except mail.MailNotConfigured as exc:
        return ReminderReport(skipped=str(exc))
    if settings is None:
        return ReminderReport(skipped="email is not configured (set GOVERNANCE_SMTP_HOST)")
    base = mail.public_url(env)
    due = due_reminders(uow, base)
    report = ReminderReport()
    if not due:
        return report
    try:
        with mail.Mailer(settings) as mailer:
            report = send_reminders(uow, mailer, base, due)
    except (smtplib.SMTPException, OSError) as exc:
        # Nothing recorded for those not reached: the next run tries them again.
        report.skipped = f"the mail server {settings.host}:{settings.port} could not be used ({exc})"[:300]
    return report


def last_runs(db: Database, limit: int = 10) -> list[dict[str, object]]:
    """The latest runs, newest first (for the Admin page)."""
    with db.uow().reading() as s:
        rows = s.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(limit)).all()
        return [{"started_at": r.started_at, "finished_at": r.finished_at, "holder": r.holder,
                 **json.loads(r.summary)} for r in rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m governance.jobs", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="close due votes, make the daily checkpoint, send due reminders")
    parser.add_argument("--database-url", help="default: DATABASE_URL, else the SQLite file under data/")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    db = Database(args.database_url)
    try:
        report = run(db)
    finally:
        db.dispose()
    print(report.summary)
    for vote_id, why in report.refused_votes.items():
        print(f"  vote #{vote_id} stays open: {why}")
    return 0 if not report.refused_votes else 1


if __name__ == "__main__":
    raise SystemExit(main())
