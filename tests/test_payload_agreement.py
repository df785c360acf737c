"""Issue 9, item 2: the benchmark's generator and the use cases write the same audit payloads.

A smoke-scale organisation from the generator (``bench.generate``) and the demo
organisation built through the use cases (``governance.demo.build_demo``) are
compared action by action: for every action both produced, the key paths of its
payloads and the JSON type at each path (null, bool, number — int and float
alike —, string, array, object) must agree. A key added on one side only fails,
and so does an action the generator writes that no builder in
``governance.record.events`` knows.

What data, not schema, decides is not compared: the keys of maps keyed by data
(``DATA_KEYED``: a charter change's term names, an amendment's fields, a tally's
counts per option), and what lies inside a value that is null or empty in every
event on one side (a first charter has no ``before``; a pilot with no pending
invitation voids none) — there is nothing on that side to compare it with. A
value null on one side and, say, a number on the other is compared by its
non-null types (a vote that met no quorum has no winner).
"""
from __future__ import annotations

import ast
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

import governance.record.events as builders
from bench.generate import generate
from governance.demo import build_demo
from governance.storage.db import Database
from tests.conftest import DatabaseFactory

ACTION = re.compile(r"[a-z_]+\.[a-z_]+")
#: Objects whose keys are data (normalised to "*"): exact paths, and any path ending so.
DATA_KEYED = ("changed", "after.changes")
DATA_KEYED_SUFFIX = (".counts",)


def builder_actions() -> set[str]:
    """Every action a builder in ``governance.record.events`` can produce (its string constants)."""
    found: set[str] = set()
    for path in Path(builders.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION.fullmatch(node.value):
                found.add(node.value)
    return found


# ------------------------------------------------------------------ shapes
def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


@dataclass
class Shape:
    """The payloads of one action on one side: the JSON types seen at each key path, and which
    containers were ever non-empty (only their insides can be compared)."""

    types: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    filled: set[str] = field(default_factory=set)

    def add(self, value: Any, path: str = "") -> None:
        self.types[path].add(json_type(value))
        if isinstance(value, dict) and value:
            self.filled.add(path)
            keyed = path in DATA_KEYED or path.endswith(DATA_KEYED_SUFFIX)
            for key, item in value.items():
                child = "*" if keyed else key
                self.add(item, f"{path}.{child}" if path else child)
        elif isinstance(value, list) and value:
            self.filled.add(path)
            for item in value:
                self.add(item, f"{path}[]")


def shapes(payloads: Iterator[tuple[str, str]]) -> dict[str, Shape]:
    out: dict[str, Shape] = defaultdict(Shape)
    for action, payload in payloads:
        out[action].add(json.loads(payload))
    return out


def _parent(path: str) -> str:
    if path.endswith("[]"):
        return path[:-2]
    return path.rsplit(".", 1)[0] if "." in path else ""


def differences(ours: dict[str, Shape], theirs: dict[str, Shape]) -> list[str]:
    """Every disagreement in the actions both sides produced ("generator" vs "services")."""
    out = []
    for action in sorted(set(ours) & set(theirs)):
        a, b = ours[action], theirs[action]
        for path in sorted(set(a.types) | set(b.types)):
            ta, tb = a.types.get(path), b.types.get(path)
            if ta is None or tb is None:
                lacking = a if ta is None else b
                if _parent(path) in lacking.filled:  # that side had the container, but never this key
                    side = "services'" if ta is None else "generator's"
                    out.append(f"{action}: '{path}' only in the {side} payloads")
                continue
            na, nb = ta - {"null"}, tb - {"null"}
            if na and nb and na != nb:
                out.append(f"{action}: '{path}' is {sorted(na)} in the generator's payloads, {sorted(nb)} in the "
                           "services'")
    return out


# ---------------------------------------------------------------- fixtures
def _payloads(url: str) -> dict[str, Shape]:
    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return shapes(iter(conn.execute(text("SELECT action, payload FROM audit_event ORDER BY seq")).all()))
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def generated(database_factory: DatabaseFactory) -> Iterator[dict[str, Shape]]:
    url = database_factory.url()
    generate("smoke", url)
    yield _payloads(url)
    database_factory.drop(url)


@pytest.fixture(scope="module")
def through_services(database_factory: DatabaseFactory) -> Iterator[dict[str, Shape]]:
    url = database_factory.url()
    build_demo(url)
    yield _payloads(url)
    database_factory.drop(url)


# ------------------------------------------------------------------- tests
def test_the_generator_writes_only_actions_the_builders_know(generated: dict[str, Shape]) -> None:
    unknown = set(generated) - builder_actions()
    assert not unknown, f"the generator writes actions no builder in governance.record.events makes: {unknown}"


def test_the_payloads_agree_action_by_action(generated: dict[str, Shape],
                                             through_services: dict[str, Shape]) -> None:
    both = set(generated) & set(through_services)
    assert len(both) >= 40, f"only {len(both)} actions in common: the comparison would say little"
    found = differences(generated, through_services)
    assert not found, "the generator's payloads differ from the services':\n  " + "\n  ".join(found)


def test_the_comparison_notices_a_key_on_one_side_only() -> None:
    """The comparison itself: a key added by one side (at the top, inside an object, inside the
    elements of a list) and a changed type are each reported; null and empty values are not."""
    base = {"after": {"vote_id": 1, "group": "frontline", "receipts": [{"receipt": "A", "option": "x"}]},
            "before": None}
    services = shapes(iter([("vote.closed", json.dumps(base))]))
    for changed in ({**base, "extra": 1}, {**base, "after": {**base["after"], "extra": True}},
                    {**base, "after": {**base["after"], "receipts": [{"receipt": "A", "option": "x", "z": 1}]}},
                    {**base, "after": {**base["after"], "vote_id": "1"}}):
        generator = shapes(iter([("vote.closed", json.dumps(changed))]))
        assert differences(generator, services) and differences(services, generator), changed
    quiet = {**base, "before": {"state": "open"}, "after": {**base["after"], "receipts": []}}
    assert differences(shapes(iter([("vote.closed", json.dumps(quiet))])), services) == []
