"""The dashboard in a real browser: ``streamlit run dashboard.py`` on a free loopback port and
Debian's Chromium driven by Playwright, and when a Streamlit page has *settled*.

Shared by the browser tests (``tests/browser_support.py``) and the browser benchmark
(``bench/browser.py``), so both start the server, launch Chromium and wait for a settled page
the same way. Never downloads a browser: it uses the system Chromium at ``/usr/bin/chromium``.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
TIMEOUT_MS = 20_000
#: Streamlit shows this widget ("Running…") while the script reruns.
STATUS_WIDGET = '[data-testid="stStatusWidget"]'
NOT_RUNNING_JS = f"() => !document.querySelector('{STATUS_WIDGET}')"


def missing_browser() -> str | None:
    """Why a browser cannot be driven here (Playwright or Chromium missing), else None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -r requirements.txt)"
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)"
    return None


def launch(playwright: Any) -> Any:
    """Headless system Chromium (never a downloaded one)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StreamlitServer:
    """``streamlit run dashboard.py`` on a free loopback port, over ``database_url``
    (``env`` adds variables, e.g. where the organisation's key files are)."""

    def __init__(self, database_url: str, log_path: Path, *, env: dict[str, str] | None = None,
                 timeout: float = 60) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {**os.environ, **(env or {}), "DATABASE_URL": database_url, "PYTHONUNBUFFERED": "1"}
        self.log = log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(self.port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=environment, stdout=self.log, stderr=subprocess.STDOUT)
        self.log_path = log_path
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not become healthy: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        """Terminate the server (kill it if it does not stop within 10 s)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if not self.log.closed:
            self.log.close()

    def tracebacks(self) -> list[str]:
        """Every Python traceback the server wrote to its log."""
        text = self.log_path.read_text()
        return re.findall(r"Traceback \(most recent call last\):.*?(?=\n\S|\Z)", text, re.S)


def wait_idle(page: Any, timeout_ms: int = TIMEOUT_MS) -> None:
    """Wait until Streamlit has finished rerunning the script (for journeys: generous pauses
    around the check, since the status widget appears only a moment after a rerun starts)."""
    page.wait_for_timeout(300)
    page.wait_for_function(NOT_RUNNING_JS, timeout=timeout_ms)
    page.wait_for_timeout(200)


def sign_in(page: Any, base_url: str, email: str, password: str) -> None:
    """Sign in on the dashboard's form and wait for the page it opens."""
    page.goto(base_url)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_idle(page)


def _message_kind(payload: Any) -> tuple[str | None, int | None]:
    """The kind of one Streamlit ``ForwardMsg`` frame and, for ``script_finished``, its status."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if isinstance(payload, str):
        return None, None
    try:
        msg = ForwardMsg.FromString(payload)
    except Exception:  # noqa: BLE001 - not a ForwardMsg: counted as a plain frame
        return None, None
    kind = msg.WhichOneof("type")
    return kind, (msg.script_finished if kind == "script_finished" else None)


class Settle:
    """When a page has settled, for timing: the script run finished, no delta still arriving,
    no status widget, and what the page should show is shown.

    Reads every WebSocket frame the page receives as Streamlit's ``ForwardMsg``. ``wait``
    returns once, since ``started``, a script run has finished (not one cut short for a rerun),
    no frame but a heartbeat has arrived for ``quiet_ms``, the status widget is gone and the
    JavaScript predicate ``ready`` holds; the time returned is the later of the last frame and
    the moment ``ready`` first held — the quiet window itself is not counted. Bounded: raises
    ``TimeoutError`` after ``timeout_ms``.
    """

    FINISHED = (0, 3)  # FINISHED_SUCCESSFULLY, FINISHED_FRAGMENT_RUN_SUCCESSFULLY

    def __init__(self, page: Any, *, quiet_ms: int = 250, poll_ms: int = 20) -> None:
        self.page = page
        self.quiet_s = quiet_ms / 1000
        self.poll_ms = poll_ms
        self.last_frame = 0.0
        self.finished_at = 0.0
        page.on("websocket", self._socket)

    def _socket(self, ws: Any) -> None:
        ws.on("framereceived", self._frame)

    def _frame(self, payload: Any) -> None:
        now = time.perf_counter()
        kind, status = _message_kind(payload)
        if kind == "heartbeat_ack":
            return
        self.last_frame = now
        if kind == "script_finished" and status in self.FINISHED:
            self.finished_at = now

    def wait(self, started: float, ready: str = "() => true", arg: Any = None,
             timeout_ms: int = 60_000) -> float:
        """Seconds from ``started`` (a ``time.perf_counter()`` taken just before the click or
        navigation) to the settled page."""
        deadline = started + timeout_ms / 1000
        ready_at: float | None = None
        check = f"(arg) => ({NOT_RUNNING_JS})() && ({ready})(arg)"
        while True:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the page did not settle within {timeout_ms} ms ({ready}, {arg!r})")
            if self.page.evaluate(check, arg):
                ready_at = ready_at or time.perf_counter()
                if self.finished_at > started and time.perf_counter() - self.last_frame >= self.quiet_s:
                    return max(self.last_frame, ready_at) - started
            else:
                ready_at = None
            self.page.wait_for_timeout(self.poll_ms)
