"""Form tokens against cross-site request forgery on the light path (``/lite/``).

Every light form carries a hidden ``csrf`` field: an HMAC, under the server's
session key, of a random per-browser secret (the ``lite_csrf`` cookie) and of
what the form acts for (``scope``: the signed-in session, "sign-in" before
one, or a personal link). A post is accepted only when the field matches the
cookie it arrived with. Another site can make a browser post a form, but it
can neither read this site's cookie nor compute the HMAC, so its post carries
no valid token and is refused before anything is written.

Binding the token to the session as well as the browser means a token seen
before sign-in (or under another person's session on a shared phone) does not
work after it.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets

COOKIE_NAME = "lite_csrf"
FIELD = "csrf"
_SECRET = re.compile(r"[A-Za-z0-9_-]{32,64}")


def new_browser_secret() -> str:
    """A fresh per-browser secret for the ``lite_csrf`` cookie (256 bits)."""
    return secrets.token_urlsafe(32)


def valid_secret(value: object) -> str | None:
    """The cookie's secret if it is well formed, else None (a forged or truncated cookie)."""
    if isinstance(value, str) and _SECRET.fullmatch(value):
        return value
    return None


def form_token(key: bytes, browser_secret: str, scope: str) -> str:
    """The token a form served to this browser, for ``scope``, must carry back."""
    message = f"lite-csrf.v1.{browser_secret}.{scope}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def token_matches(key: bytes, browser_secret: object, scope: str, given: object) -> bool:
    """Whether ``given`` is the token for this browser's secret and ``scope`` (constant time)."""
    secret = valid_secret(browser_secret)
    if secret is None or not isinstance(given, str) or len(given) != 64:
        return False
    return hmac.compare_digest(given, form_token(key, secret, scope))
