"""The stack's processes: the replicas, nginx in front, their ports and logs."""
from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is bench/replicas/processes.py)
NGINX = Path(os.environ.get("NGINX_PATH", "/usr/sbin/nginx"))
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RUNTIME_ROLE = "peg_runtime"
#: Every simulated user's password (the demo's published one is refused by the password rule, rightly).
WRITER_PASSWORD = "bench replicas password 1"
ACT_TIMEOUT_S = 30.0
#: Signing in waits for the password hash (Argon2id, deliberately slow), the whole dashboard's
#: first load in a browser, and everyone else doing the same at once: a longer bound.
SIGN_IN_TIMEOUT_S = 120.0
RECEIPT = re.compile(r"Your receipt: <strong>([^<]+)</strong>")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


class SetupError(RuntimeError):
    """Something the run needs is missing (nginx, PostgreSQL, Chromium): the message says what."""


# ------------------------------------------------------------------ processes
def progress(message: str) -> None:
    """A line on stderr while the run goes on."""
    print(f"[bench.replicas {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Child:
    """A child process in its own process group (so that it and its children can be killed together)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group (nothing if it is gone)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, a bounded wait, then SIGKILL."""
        if self.process.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=timeout)
        else:
            self.kill(signal.SIGKILL)  # children left behind by a dead leader

    def rss_mb(self) -> float | None:
        """Resident memory of the process and its children (MB), None when it is gone."""
        pids = [self.process.pid]
        with contextlib.suppress(OSError):
            pids += [int(p) for p in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
                     .read_text().split()]
        if self.process.poll() is not None:
            return None
        total = 0.0
        for pid in pids:
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
            except OSError:
                if pid == self.process.pid:
                    return None
        return round(total, 1)


def spawn(name: str, argv: list[str], env: dict[str, str], log_path: Path) -> Child:
    """Start ``argv`` in a new session (its own process group), output to ``log_path``."""
    log = log_path.open("wb")
    try:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    finally:
        log.close()
    return Child(name, process, log_path)


def wait_http(url: str, child: Child | None, timeout: float = 90.0) -> None:
    """Wait until ``url`` answers 200 (bounded); fail early if ``child`` exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.process.poll() is not None:
            raise SetupError(f"{child.name} exited: {child.log_path.read_text(errors='replace')[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SetupError(f"{url} did not answer within {timeout:.0f} s")


NGINX_CONF = """\
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 2048; }}
http {{
  log_format lb '$remote_addr [$time_local] "$request" $status up=$upstream_addr $request_time';
  access_log {tmp}/access.log lb;
  client_body_temp_path {tmp}/client_body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  # Cookie affinity: a browser without the cookie gets a random key, then keeps it.
  map $cookie_peg_lb $lb_key {{ "" $request_id; default $cookie_peg_lb; }}
  upstream streamlit {{
    hash $lb_key consistent;
    server 127.0.0.1:{port_a} max_fails=1 fail_timeout=30s;
    server 127.0.0.1:{port_b} max_fails=1 fail_timeout=30s;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://streamlit;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_connect_timeout 2s;
      proxy_read_timeout 3600s;
      proxy_send_timeout 3600s;
      proxy_buffering off;
      # A refused connection (a dead replica) goes to the other one; a request already sent is
      # not re-sent if it is a POST (nginx's default: it may have been written).
      proxy_next_upstream error timeout http_502;
      add_header Set-Cookie "peg_lb=$lb_key; Path=/; HttpOnly; SameSite=Lax" always;
      add_header X-Replica $upstream_addr always;
    }}
  }}
}}
"""
