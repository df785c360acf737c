"""Two Streamlit replicas on one PostgreSQL behind nginx, under concurrent simulated users (issue 16, item 3).

``python -m bench.replicas --users N --seconds S [--json F]``

1. **Stack.** A database of its own (``replicas_<pid>``) on the PostgreSQL named by ``--admin-url``,
   migrated and given the demo organisation through the use cases (``governance.demo``), the
   replicas connecting as the runtime role (``peg_runtime``, R18) that owns nothing. Two
   ``streamlit run dashboard.py`` replicas with the same ``DATABASE_URL``, session key, signing and
   ballot key files and Streamlit cookie secret; nginx in front (a generated configuration in a
   temporary directory, listening on 127.0.0.1 only) with WebSocket upgrade for ``/_stcore/stream``,
   long read timeouts and **cookie affinity**: nginx gives each browser a random ``peg_lb`` cookie
   and hashes it onto a replica (``hash $lb_key consistent``). ``ip_hash`` would send every user
   to one replica here, since every simulated user comes from 127.0.0.1.
2. **Users.** ``--users`` concurrent people for ``--seconds``, each in a loop with a think time
   between acts. Writers (about 60 %) are people eligible in the demo's open votes or on the open
   survey round's roster, one simulated user per person; they sign in and cast or change their
   ballot and answer the survey over the light path ``/lite/`` (plain HTTP forms, the same
   ``governance.services`` use cases and the same session cookie as the dashboard; a browser per
   writer would not fit two cores). Readers are headless Chromium contexts (one Chromium process)
   signed in on the dashboard: steering people opening Compare, auditors opening Audit and
   verifying the chain, each going back Home in between.
3. **Failover.** Half-way through, one replica is killed (SIGKILL of its process group). Its users
   carry on through nginx on the other one: the session cookie is signed with the shared key and
   the session lives in the database, so nobody signs in again. An act that was in flight on the
   killed replica fails once and is retried (``failover_retries``); ``errors`` counts acts that
   failed even after that retry.
4. **Checks.** The chain verifies; every ballot and survey answer a user was told was recorded is
   in the database exactly once (``lost_writes`` = believed − found, ``duplicates`` = found more
   than once), and each user's last one is the current one; an act whose answer was lost with the
   replica may or may not have been written (``ambiguous_writes``), never twice.

Everything started is stopped in ``finally`` blocks (process groups, bounded waits) and the
database is dropped at the end (``--keep-db`` keeps it).
"""
from __future__ import annotations

from bench.replicas.processes import ADMIN_URL, NGINX
from bench.replicas.run import main, run

__all__ = ["ADMIN_URL", "NGINX", "main", "run"]
