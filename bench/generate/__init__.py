"""Scale generator: a complete, valid organisation, built fast with bulk inserts.

    python -m bench.generate --scale smoke|town|ministry|nation [--url URL] [--reset] [--report out.json]

The database is the one ``--url`` (or ``DATABASE_URL``) names; by default a
SQLite file ``bench/out/<scale>.db`` that is recreated. The plan
(``bench.plan``) fixes every time and fate; the emitter replays it in time
order and writes exactly the rows and audit events the use cases write,
taking every payload from ``governance.record.events``, every rule, basis,
tally, hash and receipt from ``governance.rules`` and ``governance.record``
— it has nothing of its own to drift with. Modules, by what they emit:

* ``core`` — the clock, ids, the audit chain;
* ``people`` — the organisation, people, panels, the charter;
* ``problems`` — problems, criteria, locks, amendments, reopening;
* ``pilots`` — registration, team invitations, roster, readiness, real use;
* ``realuse`` — imports, measurements, feedback, metric amendments, claims;
* ``surveys`` — survey rounds and responses, evidence;
* ``votes`` — votes, open and secret ballots, closing;
* ``decisions`` — declarations, checkpoints, witnesses, the job log;
* ``emitter`` — the replay in time order; ``run`` — the database and the report.
"""
from __future__ import annotations

from bench.generate.run import OUT_DIR, PROJECT_ROOT, default_url, generate, keys_for, main, prepare_database

__all__ = ["OUT_DIR", "PROJECT_ROOT", "default_url", "generate", "keys_for", "main", "prepare_database"]
