"""The demo organisation (docs/demo.md): a living organisation on first run.

``build_demo`` replays ``data/demo_scenario.json`` through the use cases
(``governance.services``) only — it never writes a row itself — so the demo's
audit trail is genuine and verifies. A ``FixedClock`` starts twenty weeks
before ``end`` (default: now) and moves forward through the scenario's
timeline, so pilots have had their 30+ days of real use before surveys and
votes, everything happened before ``end``, and the votes left open have
deadlines after it.

    python -m governance.demo                 # build it if the database is empty
    python -m governance.demo --rebuild       # delete the SQLite file and build again
    python -m governance.demo --database-url postgresql+psycopg://…

The package is split by what each part does: ``builder`` (the timeline and the
look-ups every step shares), ``setup_steps`` / ``problem_steps`` /
``pilot_steps`` / ``survey_steps`` (one scenario action each), ``build`` (the
entry points), ``summary`` (what was built) and ``cli``.
"""
from __future__ import annotations

# The one password every demo person signs in with (set by ``mark_demo`` for the
# cast; the password policy refuses it for any real account).
from governance.demo.build import build_demo, ensure_demo, scenario_start
from governance.demo.builder import DEFAULT_SCENARIO, ScenarioError, email_for, load_scenario
from governance.demo.cli import main
from governance.demo.summary import DemoSummary, demo_people, summarise
from governance.identity.passwords import DEMO_PASSWORD

__all__ = [
    "DEFAULT_SCENARIO",
    "DEMO_PASSWORD",
    "DemoSummary",
    "ScenarioError",
    "build_demo",
    "demo_people",
    "email_for",
    "ensure_demo",
    "load_scenario",
    "main",
    "scenario_start",
    "summarise",
]
