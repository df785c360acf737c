"""Sign-in that neither locks out nor leaks (issue 13, item 4) and sessions that
survive a reload but end when they should (item 5).

Argon2id (RFC 9106 low-memory) with scrypt hashes re-hashed at the next correct
password; one message for an unknown account, a wrong password and a throttled
attempt; growing delays per account and per address instead of a lockout, and
none for the owner at an address they signed in from before; every sign-in,
failure and password change on the record without the password.
"""
from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from governance import services as sv
from governance.errors import InvalidInput, PermissionDenied, SignInFailed
from governance.identity import passwords, sessions, throttle
from governance.identity.passwords import DEMO_PASSWORD
from governance.identity.throttle import SIGN_IN_REFUSED
from governance.services.signin import current_session
from governance.storage.models import AuditEvent, Person
from tests.world import PASSWORD, World

ADA = "ada@example.org"
OWNER_AT, ATTACKER_AT = "203.0.113.7", "198.51.100.9"


def refused(world: World, email: str, password: str, address: str | None = None) -> None:
    with pytest.raises(SignInFailed) as info:
        sv.sign_in(world.uow, email, password, address=address)
    assert str(info.value) == SIGN_IN_REFUSED


def payloads(world: World, action: str) -> list[dict]:
    with world.db.uow().reading() as s:
        return [json.loads(p) for p in s.scalars(select(AuditEvent.payload).where(AuditEvent.action == action)
                                                 .order_by(AuditEvent.seq))]


def all_payload_text(world: World) -> str:
    with world.db.uow().reading() as s:
        return "\n".join(s.scalars(select(AuditEvent.payload)))


# ----------------------------------------------------------------- hashing
def test_new_hashes_are_argon2id_at_the_rfc_9106_low_memory_profile() -> None:
    product = PasswordHasher.from_parameters(passwords.PROFILE)
    assert (product.time_cost, product.memory_cost, product.parallelism) == (3, 64 * 1024, 4)
    assert (product.hash_len, product.salt_len) == (32, 16)
    digest = product.hash("a long enough password")
    assert digest.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.HASHER is not product  # the suite hashes cheaply; the product does not


def legacy_scrypt(password: str) -> str:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2 ** 14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def test_a_scrypt_hash_is_replaced_by_argon2id_at_the_next_correct_sign_in(world: World) -> None:
    with world.db.engine.begin() as conn:
        conn.execute(Person.__table__.update().where(Person.id == world.admin)
                     .values(password_hash=legacy_scrypt(PASSWORD)))
    refused(world, ADA, "not the password")  # a wrong password changes nothing
    with world.db.uow().reading() as s:
        assert s.get(Person, world.admin).password_hash.startswith("scrypt$")
    assert sv.sign_in(world.uow, ADA, PASSWORD).person_id == world.admin
    with world.db.uow().reading() as s:
        stored = s.get(Person, world.admin).password_hash
    assert stored.startswith("$argon2id$") and passwords.check_password(PASSWORD, stored)
    assert payloads(world, "person.password_rehashed")[-1]["after"] == {"scheme": "argon2id"}
    assert sv.sign_in(world.uow, ADA, PASSWORD).person_id == world.admin  # and it keeps working
    assert len(payloads(world, "person.password_rehashed")) == 1


@pytest.mark.parametrize("password,reason", [
    ("short pass", "at least 12 characters"),
    ("x" * 201, "at most 200 characters"),
    ("passwordpassword", "repeats a short or common piece"),
    ("Password2026!!", "most common passwords"),
    ("qwerty123456", "most common passwords"),
    ("aaaaaaaaaaaaaa", "repeats one or two characters"),
    (DEMO_PASSWORD, "demo organisation's published password"),
])
def test_weak_passwords_are_refused_and_nothing_is_written(world: World, password: str, reason: str) -> None:
    with world.refuses(InvalidInput, match=reason):
        sv.set_password(world.uow, world.admin, world.members[0], password)


# ----------------------------------------------------- one message, no leak
def test_unknown_accounts_wrong_passwords_and_throttled_attempts_read_the_same(world: World) -> None:
    refused(world, "nobody@example.org", "any password at all")
    refused(world, ADA, "a wrong password")
    sv.deactivate_person(world.uow, world.admin, world.members[0], reason="Left the organisation.")
    refused(world, "member.1@example.org", "any password at all")
    for _ in range(throttle.ACCOUNT_FREE):
        refused(world, ADA, "a wrong password")
    refused(world, ADA, PASSWORD)  # throttled: even the right password reads like a wrong one
    # The record says why, without the password and without a typed unknown email.
    reasons = [p["after"]["reason"] for p in payloads(world, "person.sign_in_failed")]
    assert reasons[:3] == ["unknown_account", "wrong_password", "inactive"]
    assert payloads(world, "person.sign_in_throttled")[0]["after"]["scope"] == "account"
    text = all_payload_text(world)
    for secret in (PASSWORD, "a wrong password", "any password at all", "nobody@example.org"):
        assert secret not in text


def test_throttling_treats_an_unknown_email_like_a_known_one(world: World) -> None:
    for email in (ADA, "nobody@example.org"):
        for _ in range(throttle.ACCOUNT_FREE):
            refused(world, email, "a wrong password")
    with world.db.uow().reading() as s:
        from governance.storage.models import SignInThrottle

        rows = {r.key: r.failures for r in s.scalars(select(SignInThrottle))}
    assert sorted(rows.values()) == [throttle.ACCOUNT_FREE, throttle.ACCOUNT_FREE]
    assert not any("@" in key for key in rows)  # keys are hashes, not typed text


# ------------------------------------------------------ delays, not lockout
def test_failures_slow_down_the_account_but_never_lock_it(world: World) -> None:
    for _ in range(throttle.ACCOUNT_FREE):
        refused(world, ADA, "a wrong password")
    refused(world, ADA, PASSWORD)  # within the 1 s delay: refused
    world.clock.advance(seconds=1.5)
    assert sv.sign_in(world.uow, ADA, PASSWORD).person_id == world.admin  # after it: in
    # The delay grows, but stops at a minute, however long someone keeps guessing.
    for _ in range(40):
        world.clock.advance(seconds=61)
        refused(world, ADA, "a wrong password")
    refused(world, ADA, PASSWORD)
    world.clock.advance(seconds=61)
    assert sv.sign_in(world.uow, ADA, PASSWORD).person_id == world.admin


def test_an_attacker_elsewhere_cannot_hold_the_owner_back(world: World) -> None:
    sv.sign_in(world.uow, ADA, PASSWORD, address=OWNER_AT)  # the owner's usual address
    for _ in range(12):
        refused(world, ADA, "a guess", address=ATTACKER_AT)
    refused(world, ADA, PASSWORD, address=ATTACKER_AT)  # the guesser is slowed down...
    assert sv.sign_in(world.uow, ADA, PASSWORD, address=OWNER_AT).person_id == world.admin  # ...the owner not
    # IPv4-mapped IPv6 is the same address.
    assert sv.sign_in(world.uow, ADA, PASSWORD, address=f"::ffff:{OWNER_AT}").person_id == world.admin


def test_one_address_guessing_many_accounts_is_slowed_down(world: World) -> None:
    for i in range(throttle.ADDRESS_FREE):
        refused(world, f"guess{i}@example.org", "a guess", address=ATTACKER_AT)
    refused(world, ADA, PASSWORD, address=ATTACKER_AT)  # the address now waits, whichever account
    assert sv.sign_in(world.uow, ADA, PASSWORD, address=OWNER_AT).person_id == world.admin
    world.clock.advance(seconds=2)
    assert sv.sign_in(world.uow, ADA, PASSWORD, address=ATTACKER_AT).person_id == world.admin
    throttled = payloads(world, "person.sign_in_throttled")
    assert [p["after"]["scope"] for p in throttled] == ["address"]


def test_hammering_during_a_delay_is_recorded_once_not_per_attempt(world: World) -> None:
    for _ in range(throttle.ACCOUNT_FREE):
        refused(world, ADA, "a wrong password")
    before = world.audit_count()
    for _ in range(50):
        refused(world, ADA, "a wrong password")
    assert world.audit_count() == before + 1


def test_delays_grow_and_stop_at_their_caps() -> None:
    assert [throttle.delay(n, 5, throttle.ACCOUNT_CAP).total_seconds() for n in range(4, 13)] == [
        0, 1, 2, 4, 8, 16, 32, 60, 60]
    assert throttle.delay(10 ** 6, 20, throttle.ADDRESS_CAP) == throttle.ADDRESS_CAP
    assert throttle.normal_address("127.0.0.1") is None and throttle.normal_address("::1") is None
    assert throttle.normal_address("not an address") is None


# ----------------------------------------------------------------- sessions
def test_a_ticket_sets_one_cookie_once_and_soon(world: World) -> None:
    opened = sv.sign_in(world.uow, ADA, PASSWORD)
    session_id, token = sv.redeem_ticket(world.uow, opened.ticket)
    assert session_id == opened.session_id
    assert sv.redeem_ticket(world.uow, opened.ticket) is None  # spent
    assert current_session(world.uow, session_id, token).person_id == world.admin
    assert current_session(world.uow, session_id, "x" * 43) is None  # another token: nothing
    late = sv.sign_in(world.uow, ADA, PASSWORD)
    world.clock.advance(seconds=sessions.TICKET_LIFETIME.total_seconds() + 1)
    assert sv.redeem_ticket(world.uow, late.ticket) is None
    assert sv.redeem_ticket(world.uow, "not a ticket") is None and sv.redeem_ticket(world.uow, None) is None


def test_a_cookie_is_signed_and_carries_no_secret_of_the_server(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv(sessions.KEY_ENV, raising=False)
    monkeypatch.delenv(sessions.KEY_FILE_ENV, raising=False)
    url = f"sqlite:///{tmp_path / 'org.db'}"
    key = sessions.load_key(url)
    path = tmp_path / "org.session-key"
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"
    assert sessions.load_key(url) == key  # the same key across restarts
    value = sessions.cookie_value(key, 7, "t" * 43)
    assert sessions.read_cookie(key, value) == sessions.CookieClaim(7, "t" * 43)
    assert key.decode() not in value
    forged = value.replace("v1.7.", "v1.8.")
    assert sessions.read_cookie(key, forged) is None
    assert sessions.read_cookie(b"another key of 32 characters or more", value) is None
    assert sessions.read_cookie(key, "garbage") is None and sessions.read_cookie(key, None) is None
    assert sessions.safe_next("/votes") == "/votes"
    for bad in ("https://evil.example/", "//evil.example", "/\\evil", "votes", None):
        assert sessions.safe_next(bad) == "/"


def test_a_session_ends_after_the_idle_time(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    opened = sv.sign_in(world.uow, ADA, PASSWORD)
    world.clock.advance(hours=7)
    assert current_session(world.uow, opened.session_id) is not None  # activity moves the idle clock
    world.clock.advance(hours=7)
    assert current_session(world.uow, opened.session_id) is not None
    world.clock.advance(hours=8, minutes=1)
    assert current_session(world.uow, opened.session_id) is None
    assert payloads(world, "person.signed_out")[-1]["after"]["reason"] == "idle"
    monkeypatch.setenv(sessions.IDLE_ENV, "30")
    short = sv.sign_in(world.uow, ADA, PASSWORD)
    world.clock.advance(minutes=31)
    assert current_session(world.uow, short.session_id) is None


def test_sign_out_and_password_changes_end_sessions(world: World) -> None:
    first, second = sv.sign_in(world.uow, ADA, PASSWORD), sv.sign_in(world.uow, ADA, PASSWORD)
    sv.sign_out(world.uow, first.session_id)
    assert current_session(world.uow, first.session_id) is None
    assert current_session(world.uow, second.session_id) is not None
    with world.refuses(InvalidInput, match="current password is not right"):
        sv.change_own_password(world.uow, world.admin, second.session_id, current_password="wrong guess",
                               new_password="a brand new passphrase")
    fresh = sv.change_own_password(world.uow, world.admin, second.session_id, current_password=PASSWORD,
                                   new_password="a brand new passphrase")
    assert current_session(world.uow, second.session_id) is None  # every earlier session ended
    assert current_session(world.uow, fresh.session_id).person_id == world.admin  # this browser stays in
    refused(world, ADA, PASSWORD)
    assert sv.sign_in(world.uow, ADA, "a brand new passphrase").person_id == world.admin
    # An administrator's reset ends the person's sessions too, and is temporary.
    other = sv.sign_in(world.uow, ADA, "a brand new passphrase")
    admin2 = world.person("Second Admin", ["admin"])
    sv.set_password(world.uow, admin2, world.admin, "reset by a colleague")
    assert current_session(world.uow, other.session_id) is None
    change = payloads(world, "person.password_set")
    assert change[-1]["after"] == {"by_self": False, "temporary": True} and change[-1]["sessions_revoked"] >= 1
    assert "reset by a colleague" not in all_payload_text(world)
    with pytest.raises(PermissionDenied):
        sv.change_own_password(world.uow, world.members[0], fresh.session_id, current_password=None,
                               new_password="not my session at all")


def test_a_temporary_password_works_once_and_opens_only_a_password_change(world: World) -> None:
    sam = world.person("Sam Temporary", ["frontline"], password="temporary password 1")
    opened = sv.sign_in(world.uow, "sam.temporary@example.org", "temporary password 1")
    assert opened.must_change_password and current_session(world.uow, opened.session_id).must_change_password
    refused(world, "sam.temporary@example.org", "temporary password 1")  # spent
    with world.refuses(InvalidInput, match="demo organisation's published password"):
        sv.change_own_password(world.uow, sam, opened.session_id, current_password=None,
                               new_password=DEMO_PASSWORD)
    fresh = sv.change_own_password(world.uow, sam, opened.session_id, current_password=None,
                                   new_password="sam's own passphrase")
    assert not fresh.must_change_password
    assert sv.sign_in(world.uow, "sam.temporary@example.org", "sam's own passphrase").person_id == sam


def test_deactivation_ends_sessions_and_keeps_the_record(world: World) -> None:
    opened = sv.sign_in(world.uow, ADA, PASSWORD)
    member = sv.sign_in_by_email(world.uow, "member.1@example.org", provider="oidc", email_verified=True)
    before = world.audit_count()
    sv.deactivate_person(world.uow, world.admin, world.members[0], reason="Left the organisation.")
    assert current_session(world.uow, member.session_id) is None
    assert current_session(world.uow, opened.session_id) is not None
    with world.db.uow().reading() as s:
        assert s.get(Person, world.members[0]) is not None  # kept, inactive
        assert s.scalars(select(AuditEvent).where(AuditEvent.actor_id == world.members[0])).first()
    assert world.audit_count() == before + 1
    sv.reactivate_person(world.uow, world.admin, world.members[0], reason="Came back in spring.")
    assert sv.sign_in_by_email(world.uow, "member.1@example.org", provider="oidc",
                               email_verified=True).person_id == world.members[0]


def test_oidc_requires_a_verified_email(world: World) -> None:
    for verified in (None, False, "false", "no", 1):
        with world.refuses(SignInFailed, match="has not verified this email"):
            sv.sign_in_by_email(world.uow, "stella.steering@example.org", provider="oidc",
                                email_verified=verified)
    assert sv.sign_in_by_email(world.uow, "Stella.Steering@Example.org", provider="oidc",
                               email_verified=True).person_id == world.steering


def test_the_delay_clock_moves_with_time(world: World) -> None:
    """An attacker who stops is forgotten: after a quiet hour the address counts from zero."""
    for i in range(throttle.ADDRESS_FREE + 3):
        world.clock.advance(seconds=400)
        refused(world, f"g{i}@example.org", "a guess", address=ATTACKER_AT)
    world.clock.advance(hours=1, seconds=1)
    refused(world, "x@example.org", "a guess", address=ATTACKER_AT)
    assert sv.sign_in(world.uow, ADA, PASSWORD, address=ATTACKER_AT).person_id == world.admin
    assert timedelta(0) == throttle.address_wait(throttle.Counter(), world.clock.now())


def xsrf_cookie(token: bytes, mask: bytes) -> str:
    """Streamlit's XSRF cookie: a 4-byte mask, repeated over the 16-byte token."""
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(token))
    return f"2|{mask.hex()}|{masked.hex()}|1796173387"


def test_a_ticket_sets_the_cookie_only_in_the_browser_that_signed_in(world: World) -> None:
    """Login CSRF: someone who sends a victim a link carrying their own ticket must not sign
    the victim in as themselves. The ticket is bound to the signing-in browser's XSRF token."""
    mine, theirs = b"m" * 16, b"t" * 16
    binding = sessions.browser_binding(xsrf_cookie(mine, b"\x01" * 4))
    assert binding == sessions.browser_binding(xsrf_cookie(mine, b"\x7f\x10\x20\x30"))  # a new mask: same browser
    assert binding != sessions.browser_binding(xsrf_cookie(theirs, b"\x01" * 4))
    assert sessions.browser_binding("2|8d2d7d73|0ce780d9bbd461caa48b4a2b74ef2d0d|1796179597")  # as served
    for junk in (None, "", "1|ab|cd|1", "2|zz|cd|1", "2|abcd|ab|1", "2|8d2d7d73||1"):
        assert sessions.browser_binding(junk) is None
    opened = sv.sign_in(world.uow, ADA, PASSWORD, browser=binding)
    assert sv.redeem_ticket(world.uow, opened.ticket, sessions.browser_binding(xsrf_cookie(theirs, b"\x02" * 4))) \
        is None  # another browser: spent, no cookie
    again = sv.sign_in(world.uow, ADA, PASSWORD, browser=binding)
    assert sv.redeem_ticket(world.uow, again.ticket, None) is None
    third = sv.sign_in(world.uow, ADA, PASSWORD, browser=binding)
    assert sv.redeem_ticket(world.uow, third.ticket,
                            sessions.browser_binding(xsrf_cookie(mine, b"\x05" * 4)))[0] == third.session_id
