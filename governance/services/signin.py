"""Signing in and out: passwords, the organisation's identity provider, sessions.

* ``sign_in`` checks an email and password under growing delays
  (``governance.identity.throttle``) — never a lockout — and answers every
  refusal with the same words, whether the account is unknown, the password
  wrong or the attempt throttled. Every success, failure and throttling is
  audited, without the password and without the typed email of an unknown
  account.
* A correct password opens a session (``SignInSession``) with a one-time
  ticket that the page exchanges for a signed, HttpOnly cookie
  (``governance.identity.sessions``, ``governance.identity.web``).
* A temporary password (set by an administrator or by ``init``) works once:
  its session can only choose a new password.
* A password change, a deactivation and a sign-out end sessions; so does
  idleness (``GOVERNANCE_SESSION_IDLE_MINUTES``, default 8 hours).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from governance.errors import InvalidInput, PermissionDenied, SignInFailed
from governance.identity import passwords, sessions as cookies, throttle
from governance.identity.actors import Actor, load_actor
from governance.record.events import people as events
from governance.services._base import log, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import KnownAddress, Person, SignInSession, SignInThrottle
from governance.validation import email as email_address


@dataclass(frozen=True)
class SignedIn:
    """An opened session: who, which session, and the one-time ticket that sets its cookie."""

    person_id: int
    session_id: int
    ticket: str
    must_change_password: bool = False


@dataclass(frozen=True)
class ActiveSession:
    """A live session as the database holds it now."""

    session_id: int
    person_id: int
    must_change_password: bool
    method: str


def _typed_email(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return unicodedata.normalize("NFKC", value).strip().lower()[:254]


def _counter(row: SignInThrottle | None) -> throttle.Counter:
    return throttle.Counter(row.failures, row.last_failure_at) if row else throttle.Counter()


def _row(s: Session, key: str) -> SignInThrottle:
    row = s.get(SignInThrottle, key)
    if row is None:
        row = SignInThrottle(key=key, failures=0, last_failure_at=None, refused=0)
        s.add(row)
    return row


# ------------------------------------------------------------------ sign in
@use_case
def _attempt(uow: UnitOfWork, email: object, password: object, address: str | None,
             browser: str | None) -> SignedIn | None:
    """One password attempt: throttled, failed (counted) or signed in; None unless signed in."""
    s = session_of(uow)
    typed = _typed_email(email)
    addr = throttle.normal_address(address)
    who = s.scalar(select(Person).where(Person.email == typed)) if typed else None
    if _throttled(uow, who, typed, addr):
        return None
    secret = password if isinstance(password, str) else ""
    reason = _failure_reason(who, secret)
    if reason is not None:
        _record_failure(uow, who, typed, addr, reason)
        return None
    assert who is not None
    return _succeed(uow, who, typed, addr, secret, browser)


def _throttled(uow: UnitOfWork, who: Person | None, typed: str, addr: str | None) -> bool:
    """True (and recorded) while the account's or the address's growing delay runs. An address the
    owner signed in from lately is not held back by failures on the account from elsewhere."""
    s, now = session_of(uow), uow.now()
    account = s.get(SignInThrottle, throttle.account_key(typed))
    by_address = s.get(SignInThrottle, throttle.address_key(addr)) if addr else None
    known = False
    if who is not None and addr is not None:
        seen = s.get(KnownAddress, (who.id, throttle.address_key(addr)))
        known = seen is not None and now - seen.last_success_at <= throttle.KNOWN_ADDRESS_FOR
    waits = []
    if not known:
        waits.append(("account", account, throttle.account_wait(_counter(account), now)))
    if by_address is not None:
        waits.append(("address", by_address, throttle.address_wait(_counter(by_address), now)))
    for scope, row, wait in waits:
        if wait.total_seconds() > 0:
            assert row is not None
            if not row.refused:  # the first refusal of this delay is recorded; the rest are counted
                log(uow, None, events.sign_in_throttled(
                    person_id=who.id if who else None, scope=scope, failures=row.failures,
                    wait_seconds=round(wait.total_seconds(), 1), address=throttle.address_digest(addr),
                    refused_since_last=0))
            row.refused += 1
            return True
    return False


def _failure_reason(who: Person | None, secret: str) -> str | None:
    """Why this password does not sign in, or None. Every path costs one hash check, so the
    time taken does not tell an unknown account from a wrong password."""
    if who is None:
        passwords.dummy_check(secret)
        return "unknown_account"
    if not who.active:
        passwords.dummy_check(secret)
        return "inactive"
    if not who.password_hash:
        passwords.dummy_check(secret)
        return "no_password"
    if not passwords.check_password(secret, who.password_hash):
        return "wrong_password"
    return None


def _record_failure(uow: UnitOfWork, who: Person | None, typed: str, addr: str | None, reason: str) -> None:
    """Count the failure on the account and the address, forget stale counters, record it."""
    s, now = session_of(uow), uow.now()
    account = _row(s, throttle.account_key(typed))
    account.failures, account.last_failure_at, account.refused = account.failures + 1, now, 0
    if addr is not None:
        by_address = _row(s, throttle.address_key(addr))
        lapsed = throttle.address_counter(_counter(by_address), now)
        by_address.failures, by_address.last_failure_at, by_address.refused = lapsed.failures + 1, now, 0
    s.execute(delete(SignInThrottle).where(
        SignInThrottle.last_failure_at < now - throttle.ADDRESS_WINDOW * 24,
        SignInThrottle.key != account.key))
    # Whoever typed it is unknown: the record names the account, not an actor.
    log(uow, None, events.sign_in_failed(person_id=who.id if who else None, reason=reason,
                                         failures=account.failures, address=throttle.address_digest(addr)))


def _succeed(uow: UnitOfWork, who: Person, typed: str, addr: str | None, secret: str,
             browser: str | None) -> SignedIn:
    """Clear the account's counter, remember the address, spend a temporary password or upgrade an
    old hash, and open the session."""
    s, now = session_of(uow), uow.now()
    assert who.password_hash
    actor = Actor(who.id, who.name, frozenset())
    account = s.get(SignInThrottle, throttle.account_key(typed))
    if account is not None:
        s.delete(account)
    if addr is not None:
        key = throttle.address_key(addr)
        seen = s.get(KnownAddress, (who.id, key))
        if seen is None:
            s.add(KnownAddress(person_id=who.id, address_key=key, last_success_at=now))
        else:
            seen.last_success_at = now
    temporary = bool(who.password_temporary)
    if temporary:
        # A temporary password works once: it is spent now, and this session can
        # only choose the person's own password.
        who.password_hash, who.password_temporary = None, False
    elif passwords.needs_rehash(who.password_hash):
        before = "scrypt" if who.password_hash.startswith("scrypt$") else "argon2id-weaker"
        who.password_hash = passwords.hash_password(secret)
        log(uow, actor, events.password_rehashed(person_id=who.id, scheme_before=before,
                                                 scheme_after="argon2id"))
    opened = _open_session(uow, who.id, method="password", must_change=temporary, browser=browser)
    log(uow, actor, events.signed_in(person_id=who.id, method="password", session_id=opened.session_id,
                                     address=throttle.address_digest(addr), must_change_password=temporary))
    return opened


def sign_in(uow: UnitOfWork, email: object, password: object, *, address: str | None = None,
            browser: str | None = None) -> SignedIn:
    """A session for a correct email and password, or ``SignInFailed`` with the one
    message every refusal shares. Failures are recorded (and count towards the
    delays) even though the call raises. ``address``: the client's address, when
    the server knows it (``st.context.ip_address``); ``browser``: the browser's binding
    (``identity.sessions.browser_binding``), which the cookie route will require."""
    opened = _attempt(uow, email, password, address, browser)
    if opened is None:
        raise SignInFailed(throttle.SIGN_IN_REFUSED)
    return opened


@use_case
def sign_in_by_email(uow: UnitOfWork, email: str, *, provider: str, email_verified: object = None,
                     browser: str | None = None) -> SignedIn:
    """Map an identity proven by an OpenID Connect provider to an active person.

    Only an email the provider says it verified (``email_verified`` true) counts:
    otherwise anyone could register the address at a lax provider."""
    s = session_of(uow)
    if email_verified is not True and str(email_verified).strip().lower() != "true":
        raise SignInFailed("Your identity provider has not verified this email address, so it cannot "
                           "sign you in here. Verify the address with your provider (or ask your IT "
                           "team), then sign in again.")
    address = email_address(email)
    who = s.scalar(select(Person).where(Person.email == address))
    if who is None or not who.active:
        raise SignInFailed(f"{address} is not a person in this organisation. Ask an "
                           "administrator to add you with this email.")
    method = f"oidc:{provider}"[:40]
    opened = _open_session(uow, who.id, method=method, must_change=False, browser=browser)
    log(uow, Actor(who.id, who.name, frozenset()), events.signed_in(
        person_id=who.id, method=method, session_id=opened.session_id))
    return opened


# ------------------------------------------------------------------ sessions
def _open_session(uow: UnitOfWork, person_id: int, *, method: str, must_change: bool,
                  browser: str | None = None) -> SignedIn:
    s = session_of(uow)
    now = uow.now()
    ticket = cookies.new_secret()
    row = SignInSession(person_id=person_id, method=method, ticket_sha256=cookies.digest(ticket),
                        ticket_expires_at=now + cookies.TICKET_LIFETIME, ticket_binding=browser,
                        token_sha256=None,
                        must_change_password=must_change, created_at=now, last_seen_at=now)
    s.add(row)
    s.flush()
    return SignedIn(person_id, row.id, ticket, must_change)


@use_case
def redeem_ticket(uow: UnitOfWork, ticket: object, browser: str | None = None) -> tuple[int, str] | None:
    """Exchange a session's one-time ticket for its cookie token: (session id, token),
    or None when the ticket is unknown, spent, expired, its session ended, or it was
    bound to another browser than ``browser``."""
    if not isinstance(ticket, str) or not 20 <= len(ticket) <= 100:
        return None
    s = session_of(uow)
    row = s.scalar(select(SignInSession).where(SignInSession.ticket_sha256 == cookies.digest(ticket)))
    now = uow.now()
    if row is None or row.revoked_at is not None:
        return None
    row.ticket_sha256 = None  # spent, whatever happens next
    if row.ticket_expires_at is None or row.ticket_expires_at < now:
        return None
    if row.ticket_binding is not None and row.ticket_binding != browser:
        return None
    token = cookies.new_secret()
    row.token_sha256, row.ticket_expires_at, row.last_seen_at = cookies.digest(token), None, now
    return row.id, token


def _ended(row: SignInSession, now: datetime) -> str | None:
    if row.revoked_at is not None:
        return "revoked"
    if now - row.last_seen_at > cookies.idle_timeout():
        return "idle"
    if now - row.created_at > cookies.MAX_LIFETIME:
        return "expired"
    return None


def current_session(uow: UnitOfWork, session_id: object, token: str | None = None) -> ActiveSession | None:
    """The live session ``session_id`` (with ``token``, when it comes from a cookie), or None.

    A session that has gone idle or reached its lifetime is ended (and audited)
    on the way; recent activity is written back at most once a minute."""
    if isinstance(session_id, bool) or not isinstance(session_id, int):
        return None
    with uow.reading() as s:
        row = s.get(SignInSession, session_id)
        if row is None or (token is not None and row.token_sha256 != cookies.digest(token)):
            return None
        person = s.get(Person, row.person_id)
        now = uow.now()
        ended = _ended(row, now)
        if ended is None and (person is None or not person.active):
            ended = "deactivated"
        stale = now - row.last_seen_at > cookies.TOUCH_EVERY
        found = ActiveSession(row.id, row.person_id, row.must_change_password, row.method)
    if ended == "revoked":
        return None
    if ended is not None:
        _end(uow, session_id, ended)
        return None
    if stale:
        _touch(uow, session_id)
    return found


@use_case
def _touch(uow: UnitOfWork, session_id: int) -> None:
    session_of(uow).execute(update(SignInSession).where(
        SignInSession.id == session_id, SignInSession.revoked_at.is_(None)).values(last_seen_at=uow.now()))


@use_case
def _end(uow: UnitOfWork, session_id: int, reason: str) -> None:
    s = session_of(uow)
    row = s.get(SignInSession, session_id)
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at, row.revoked_reason = uow.now(), reason
    who = s.get(Person, row.person_id)
    log(uow, Actor(who.id, who.name, frozenset()) if who else None,
        events.signed_out(person_id=row.person_id, session_id=row.id, reason=reason))


@use_case
def sign_out(uow: UnitOfWork, session_id: object) -> None:
    """End a session (its cookie stops working at once, on every replica)."""
    if isinstance(session_id, int) and not isinstance(session_id, bool):
        _end(uow, session_id, "signed_out")


def revoke_sessions(uow: UnitOfWork, person_id: int, *, reason: str, keep: int | None = None) -> int:
    """End every live session of ``person_id`` (but ``keep``), inside the caller's use case;
    returns how many ended."""
    s = session_of(uow)
    rows = s.scalars(select(SignInSession).where(SignInSession.person_id == person_id,
                                                 SignInSession.revoked_at.is_(None))).all()
    ended = 0
    for row in rows:
        if row.id == keep:
            continue
        row.revoked_at, row.revoked_reason = uow.now(), reason
        ended += 1
    return ended


@use_case
def change_own_password(uow: UnitOfWork, actor_id: int, session_id: int, *, current_password: str | None,
                        new_password: str) -> SignedIn:
    """A person replaces their own password. The current one is asked for, except in the
    session a temporary password opened (that password is spent). Every session of the
    person ends, this one included; a fresh session (with its ticket) is returned so the
    browser stays signed in."""
    s = session_of(uow)
    actor = load_actor(s, actor_id)
    row = s.get(SignInSession, session_id) if isinstance(session_id, int) else None
    if row is None or row.person_id != actor.id or row.revoked_at is not None:
        raise PermissionDenied("Your session has ended; sign in again to change your password.")
    who = s.get(Person, actor.id)
    assert who is not None
    if not row.must_change_password and (not who.password_hash or not passwords.check_password(
            current_password if isinstance(current_password, str) else "", who.password_hash)):
        raise InvalidInput("The current password is not right; type it again.", field="Current password")
    new = passwords.require_acceptable(new_password, "New password")
    if who.password_hash and passwords.check_password(new, who.password_hash):
        raise InvalidInput("The new password is the one you have now; choose a different one.",
                           field="New password")
    who.password_hash, who.password_temporary = passwords.hash_password(new), False
    ended = revoke_sessions(uow, who.id, reason="password_changed")
    log(uow, actor, events.password_set(person_id=who.id, by_self=True, temporary=False,
                                        sessions_revoked=ended))
    opened = _open_session(uow, who.id, method=row.method, must_change=False, browser=row.ticket_binding)
    log(uow, actor, events.signed_in(person_id=who.id, method=row.method, session_id=opened.session_id))
    return opened
