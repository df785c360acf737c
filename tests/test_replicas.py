"""Two replicas behind nginx on one PostgreSQL, a replica killed mid-run (issue 16, item 3).

Runs the real command, ``python -m bench.replicas``, briefly: 6 users for 20 s (two readers:
one in Chromium, one over Streamlit's WebSocket protocol), replica B killed half-way. Nothing
written may be lost or doubled, nobody may see an error that a retry did not cure, the chain
must verify, every user must carry on after the kill, and both kinds of reader must have
opened their pages.

Runs only with ``RUN_REPLICAS=1`` (a benchmark, not the default suite). Skips (with the
reason) without nginx, Chromium/Playwright or PostgreSQL; ``REQUIRE_POSTGRES=1``
turns a missing PostgreSQL into a failure, ``REQUIRE_BROWSER=1`` a missing Chromium.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.replicas import ADMIN_URL, NGINX
from tests.browser_support import ROOT, browser_or_skip
from tests.conftest import require_postgres_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.browser]
#: A load run belongs to the benchmark, not to the default suite (CI's 30 minutes, and a
#: load run on a machine busy with the rest of the suite measures the machine).
RUN_REPLICAS = os.environ.get("RUN_REPLICAS") == "1"


@pytest.mark.replicas
@pytest.mark.skipif(not RUN_REPLICAS, reason="the replica load run is a benchmark: RUN_REPLICAS=1 python -m pytest "
                    "tests/test_replicas.py, or python -m bench.replicas")
def test_replicas_behind_nginx_lose_nothing_when_one_is_killed(tmp_path: Path) -> None:
    if not NGINX.exists():
        pytest.skip(f"nginx is not installed at {NGINX} (apt-get install -y nginx)")
    browser_or_skip()
    admin_url = os.environ.get("REPLICAS_ADMIN_URL", ADMIN_URL)
    require_postgres_or_skip(admin_url)
    out = tmp_path / "replicas.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.replicas", "--users", "6", "--seconds", "20", "--browsers", "1",
         "--json", str(out),
         "--admin-url", admin_url, "--logs", str(tmp_path / "logs")],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert out.exists(), done.stderr[-3000:]
    result = json.loads(out.read_text())
    shown = json.dumps({k: v for k, v in result.items() if k != "by_interaction"}, indent=1)[:4000]
    assert result["replica_killed"] and result["killed_at_s"] is not None, shown
    assert result["errors"] == 0, shown
    assert result["believed_writes"] > 0 and result["lost_writes"] == 0, shown
    assert result["duplicates"] == 0 and not result["wrong_writes"], shown
    assert result["last_not_current"] == 0 and result["double_current"] == 0, shown
    assert result["unexplained_secret_ballots"] == 0, shown
    assert result["chain_ok"], shown
    assert result["users_carried_on"] == result["users"] == result["users_started"], shown
    assert result["server_tracebacks"] == 0, shown
    assert {"interactions_per_s", "p50_ms", "p95_ms", "p99_ms"} <= result.keys()
    # The first reader (Compare) in Chromium, the second (Audit) over the protocol; each kind recorded apart.
    assert result["readers_in_browser"] == 1 and result["readers_over_protocol"] == 1, shown
    kinds = result["by_interaction"]
    assert kinds["sign_in_browser"]["n"] == 1 and kinds["sign_in_protocol"]["n"] == 1, kinds
    assert kinds["open_compare"]["n"] > 0 and kinds["open_audit_protocol"]["n"] > 0, kinds
    assert kinds["verify_chain_protocol"]["n"] > 0, kinds
    assert done.returncode == 0, done.stderr[-3000:]


def test_replicas_refuses_bad_input_with_a_message() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.replicas", "--seconds", "-1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--seconds must be between" in done.stderr
    assert "Traceback" not in done.stderr


def test_replicas_refuses_a_negative_number_of_browsers_with_a_message() -> None:
    done = subprocess.run([sys.executable, "-m", "bench.replicas", "--browsers", "-1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--browsers must be 0 or more" in done.stderr
    assert "Traceback" not in done.stderr
