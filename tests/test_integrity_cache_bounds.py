"""The process-wide store of integrity results: bounded, expiring, safe across threads.

Streamlit serves every session from one process, so the store is shared: it must not grow
without end (one entry per fingerprint ever seen), must not keep a result past its lifetime,
and must not corrupt itself when sessions read and write it at once.
"""
from __future__ import annotations

import threading
import time

import pytest

from governance.record import integrity
from governance.record.fingerprints import ResultCache


def test_it_keeps_at_most_maxsize_entries_dropping_the_least_recently_used() -> None:
    cache = ResultCache(maxsize=3)
    for i in range(3):
        cache.put(("db", f"f{i}"), frozenset({i}))
    assert cache.get(("db", "f0")) == frozenset({0})  # used: now the most recent
    cache.put(("db", "f3"), frozenset({3}))
    assert len(cache) == 3
    assert cache.get(("db", "f1")) is None  # the least recently used went
    assert cache.get(("db", "f0")) == frozenset({0})
    assert cache.get(("db", "f3")) == frozenset({3})


def test_an_entry_expires_after_its_lifetime(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(integrity.time, "monotonic", lambda: now[0])
    cache = ResultCache(ttl=60)
    cache.put(("db", "f"), frozenset({7}))
    now[0] += 59
    assert cache.get(("db", "f")) == frozenset({7})
    now[0] += 2
    assert cache.get(("db", "f")) is None
    assert len(cache) == 0


def test_databases_do_not_share_entries() -> None:
    cache = ResultCache()
    cache.put(("postgresql://a/x", "f"), frozenset({1}))
    assert cache.get(("postgresql://a/y", "f")) is None


def test_concurrent_readers_and_writers_leave_it_consistent() -> None:
    cache = ResultCache(maxsize=8)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(2000):
                key = ("db", f"f{(n * 7 + i) % 20}")
                cache.put(key, frozenset({i}))
                found = cache.get(key)
                assert found is None or isinstance(found, frozenset)
                assert len(cache) <= 8
        except BaseException as exc:  # noqa: BLE001 - reported below, in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(cache) <= 8
    assert time.perf_counter() - start < 60
