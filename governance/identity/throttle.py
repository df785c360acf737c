"""Sign-in throttling: a growing delay, never a lockout. Pure.

Two counters slow down guessing:

* per **account** (keyed by the typed email, known or not, so the behaviour
  says nothing about who has an account): after ``ACCOUNT_FREE`` failures in
  a row, each further attempt must wait 1 s, 2 s, 4 s … at most
  ``ACCOUNT_CAP`` after the previous failure. A correct password resets it.
  The delay is *not* applied to an address from which that account signed
  in successfully before ("known address"): someone guessing from elsewhere
  cannot hold the owner back.
* per **client address** (when the server knows it): after ``ADDRESS_FREE``
  failures (any accounts) within ``ADDRESS_WINDOW``, each further attempt from
  it waits 1 s, 2 s … at most ``ADDRESS_CAP``. Success does not reset it (an
  attacker with an account of their own could otherwise reset it between
  guesses); it lapses after ``ADDRESS_WINDOW`` without failures.

An attempt made while a delay runs is refused *without* checking the password
and does not count as a failure, so refusals never lengthen the delay: the
worst anyone can impose on an owner at a new address is a wait of
``ACCOUNT_CAP`` between two of the owner's own tries. Every refusal reads
exactly like a wrong password.
"""
from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

ACCOUNT_FREE = 5
ACCOUNT_CAP = timedelta(seconds=60)
ADDRESS_FREE = 20
ADDRESS_CAP = timedelta(minutes=5)
ADDRESS_WINDOW = timedelta(hours=1)
#: How long a successful sign-in makes its address "known" for that account.
KNOWN_ADDRESS_FOR = timedelta(days=90)

#: The one message for an unknown account, a wrong password and a throttled attempt.
SIGN_IN_REFUSED = ("That email and password did not work. Check both and try again; after several "
                   "failed tries, wait a minute between attempts.")


@dataclass(frozen=True)
class Counter:
    """Failures counted under one key, and when the last one happened."""

    failures: int = 0
    last_failure_at: datetime | None = None


def delay(failures: int, free: int, cap: timedelta) -> timedelta:
    """The wait after ``failures`` failures: none for the first ``free``, then 1 s, 2 s, 4 s … ``cap``."""
    if failures < free:
        return timedelta(0)
    exponent = min(failures - free, 30)
    return min(timedelta(seconds=2 ** exponent), cap)


def account_wait(counter: Counter, now: datetime) -> timedelta:
    """How long an attempt on this account must still wait (zero: go ahead)."""
    return _wait(counter, now, ACCOUNT_FREE, ACCOUNT_CAP)


def address_wait(counter: Counter, now: datetime) -> timedelta:
    """How long an attempt from this address must still wait (zero: go ahead)."""
    return _wait(address_counter(counter, now), now, ADDRESS_FREE, ADDRESS_CAP)


def address_counter(counter: Counter, now: datetime) -> Counter:
    """The address counter as it stands at ``now`` (it lapses after a quiet window)."""
    if counter.last_failure_at is None or now - counter.last_failure_at > ADDRESS_WINDOW:
        return Counter()
    return counter


def _wait(counter: Counter, now: datetime, free: int, cap: timedelta) -> timedelta:
    if counter.last_failure_at is None:
        return timedelta(0)
    until = counter.last_failure_at + delay(counter.failures, free, cap)
    return max(until - now, timedelta(0))


def after_failure(counter: Counter, now: datetime) -> Counter:
    return Counter(counter.failures + 1, now)


# --------------------------------------------------------------------- keys
def account_key(email: str) -> str:
    """The counter key of a typed email: a hash, so the table holds no typed text."""
    return "account:" + hashlib.sha256(email.encode("utf-8")).hexdigest()[:40]


def normal_address(address: str | None) -> str | None:
    """A client address as one canonical text; None when unknown or loopback (local use,
    or a proxy that does not pass the client's address on)."""
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip().split("%")[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:
        return None
    return str(ip)


def address_key(address: str) -> str:
    return "address:" + hashlib.sha256(address.encode("ascii")).hexdigest()[:40]


def address_digest(address: str | None) -> str | None:
    """What the record keeps of an address: a short hash, enough to tell attempts apart."""
    return None if address is None else hashlib.sha256(address.encode("ascii")).hexdigest()[:16]
