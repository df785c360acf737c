"""Signed session cookies: the server key, tickets, tokens and their signatures.

A signed-in browser holds one cookie, ``pilot_session`` = ``v1.<id>.<token>.<mac>``:
the id of its row in ``sign_in_session``, a random 256-bit token (the table keeps
only its SHA-256), and an HMAC-SHA256 of both under the server's session key. The
cookie is HttpOnly (no script reads it), SameSite=Strict, Secure over HTTPS, and
carries nothing else — no name, no role, no secret of the server.

The key lives outside the database: ``GOVERNANCE_SESSION_KEY`` (at least 32
characters), else the file ``GOVERNANCE_SESSION_KEY_FILE``, else a file beside
the SQLite database (``data/demo.session-key`` for the demo) or
``data/governance.session-key``; a missing file is created (mode 0600). Every
replica of a deployment must be given the same key. Replacing it signs everyone
out.

How a cookie is set from a Streamlit app (which cannot write cookies itself):
a correct password creates the session row with a one-time *ticket*; the page
sends the browser to ``/session/start?ticket=…&next=/votes``, an HTTP route of
the same server (``governance.identity.web``), which redeems the ticket once
(within ``TICKET_LIFETIME``), sets the cookie and redirects to the page asked
for. Later page loads and reloads carry the cookie to the WebSocket, where the
app reads it (``st.context.cookies``) and checks it against its row.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

COOKIE_NAME = "pilot_session"
COOKIE_VERSION = "v1"
TICKET_LIFETIME = timedelta(minutes=2)
#: A session ends after this long without activity (GOVERNANCE_SESSION_IDLE_MINUTES).
DEFAULT_IDLE = timedelta(hours=8)
#: ... and in any case this long after sign-in.
MAX_LIFETIME = timedelta(days=7)
#: Activity is written back at most this often (a rerun is not worth a write each time).
TOUCH_EVERY = timedelta(minutes=1)
MIN_KEY_CHARS = 32

KEY_ENV = "GOVERNANCE_SESSION_KEY"
KEY_FILE_ENV = "GOVERNANCE_SESSION_KEY_FILE"
IDLE_ENV = "GOVERNANCE_SESSION_IDLE_MINUTES"


def idle_timeout() -> timedelta:
    """The configured idle time (``GOVERNANCE_SESSION_IDLE_MINUTES``), default 8 hours."""
    raw = os.environ.get(IDLE_ENV, "").strip()
    if raw.isdigit() and 1 <= int(raw) <= 60 * 24 * 30:
        return timedelta(minutes=int(raw))
    return DEFAULT_IDLE


def key_file_for(database_url: str) -> Path:
    """Where the session key file lives for this database (when no env var names one)."""
    named = os.environ.get(KEY_FILE_ENV, "").strip()
    if named:
        return Path(named)
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).with_suffix(".session-key")
    from governance.storage.db import PROJECT_ROOT

    return PROJECT_ROOT / "data" / "governance.session-key"


def load_key(database_url: str) -> bytes:
    """The server's session key (created on first use when it is a file)."""
    given = os.environ.get(KEY_ENV, "")
    if given:
        if len(given) < MIN_KEY_CHARS:
            raise RuntimeError(f"{KEY_ENV} must be at least {MIN_KEY_CHARS} characters long.")
        return given.encode("utf-8")
    path = key_file_for(database_url)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_KEY_CHARS:
        raise RuntimeError(f"The session key in {path} is shorter than {MIN_KEY_CHARS} characters.")
    return key.encode("utf-8")


def new_secret() -> str:
    """A fresh random ticket or token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the database keeps of a ticket or token."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _mac(key: bytes, session_id: int, token: str) -> str:
    message = f"{COOKIE_VERSION}.{session_id}.{token}".encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def cookie_value(key: bytes, session_id: int, token: str) -> str:
    return f"{COOKIE_VERSION}.{session_id}.{token}.{_mac(key, session_id, token)}"


@dataclass(frozen=True)
class CookieClaim:
    """What a cookie claims, once its signature checks out (the row must still agree)."""

    session_id: int
    token: str


_COOKIE = re.compile(r"v1\.([0-9]{1,10})\.([A-Za-z0-9_-]{20,100})\.([0-9a-f]{64})")


def read_cookie(key: bytes, value: object) -> CookieClaim | None:
    """The claim of a well-formed, correctly signed cookie; None for anything else."""
    if not isinstance(value, str):
        return None
    match = _COOKIE.fullmatch(value.strip())
    if match is None:
        return None
    session_id, token, mac = int(match.group(1)), match.group(2), match.group(3)
    if not hmac.compare_digest(mac, _mac(key, session_id, token)):
        return None
    return CookieClaim(session_id, token)


BROWSER_COOKIE = "_streamlit_xsrf"


def browser_binding(xsrf_cookie: object) -> str | None:
    """A digest of the browser's XSRF token (Streamlit's ``_streamlit_xsrf`` cookie, format
    ``2|4-byte mask|masked token|time``), or None without one. A ticket is bound to the browser that
    signed in: redeemed from another browser (someone sending a victim a link with their own
    ticket, to sign the victim in as themselves) it sets no cookie. The mask changes on every
    page load; the unmasked token does not."""
    if not isinstance(xsrf_cookie, str):
        return None
    parts = xsrf_cookie.strip().strip('"').split("|")
    if len(parts) != 4 or parts[0] != "2":
        return None
    try:
        mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError:
        return None
    if len(mask) != 4 or not masked:
        return None
    token = bytes(b ^ mask[i % 4] for i, b in enumerate(masked))  # the mask repeats (Tornado's format)
    return hashlib.sha256(b"browser:" + token).hexdigest()


def safe_next(path: object) -> str:
    """A same-site path to go to after sign-in (never another site: no scheme, no //)."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//") \
            or "\\" in path or len(path) > 200 or not re.fullmatch(r"/[A-Za-z0-9_\-/]*", path):
        return "/"
    return path
