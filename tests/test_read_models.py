"""The read side stays typed, and pages ask the permission table.

Every public function of ``governance.queries`` returns frozen dataclasses (or
a ``Page`` / list of them, or a plain scalar) — never a dict, so a renamed
field fails where it is read, not at run time in a page. And no page holds a
role set of its own: pages ask ``rules.permissions`` or a ``may_*`` field of
the read model (issue 9).
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import types
import typing
from pathlib import Path

import pytest

import governance.queries
from governance.queries._base import Page

ROOT = Path(__file__).resolve().parent.parent
SCALARS = (bool, int, float, str, bytes, type(None))  # bytes: a file to download (the auditor pack)


def query_modules() -> list[types.ModuleType]:
    return [importlib.import_module(f"governance.queries.{m.name}")
            for m in pkgutil.iter_modules(governance.queries.__path__) if not m.name.startswith("_")]


def public_functions() -> list[tuple[str, typing.Callable[..., object]]]:
    return [(f"{module.__name__}.{name}", fn) for module in query_modules()
            for name, fn in inspect.getmembers(module, inspect.isfunction)
            if not name.startswith("_") and fn.__module__ == module.__name__]


def problems(annotation: object, where: str) -> list[str]:
    """Why ``annotation`` is not a typed read model (empty: it is)."""
    if annotation is typing.Any:
        return [f"{where}: Any"]
    if annotation in SCALARS:
        return []
    if dataclasses.is_dataclass(annotation) and isinstance(annotation, type):
        params = annotation.__dataclass_params__  # type: ignore[attr-defined]
        return [] if params.frozen else [f"{where}: {annotation.__name__} is not frozen"]
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return [p for a in args for p in problems(a, where)]
    if origin in (list, Page):
        return [p for a in args for p in problems(a, where)]
    if origin is tuple:
        return [p for a in args if a is not Ellipsis for p in problems(a, where)]
    return [f"{where}: {annotation!r} is not a dataclass, Page, list of them or scalar"]


def test_there_are_read_models_to_check() -> None:
    names = {name for name, _ in public_functions()}
    assert {"governance.queries.pilots.pilot_detail", "governance.queries.votes.vote_detail",
            "governance.queries.home.my_agenda", "governance.queries.people.charters"} <= names


@pytest.mark.parametrize(("name", "fn"), public_functions(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_public_query_returns_typed_read_models(name: str, fn: typing.Callable[..., object]) -> None:
    hints = typing.get_type_hints(fn)
    assert "return" in hints, f"{name} has no return annotation"
    assert not problems(hints["return"], name)


def test_the_check_refuses_a_dict_returning_read_model() -> None:
    def dict_model() -> dict[str, typing.Any]:
        return {}

    def page_of_dicts() -> Page[dict[str, typing.Any]]:
        raise NotImplementedError

    def list_of_dicts() -> list[dict[str, int]] | None:
        return None

    for fn in (dict_model, page_of_dicts, list_of_dicts):
        assert problems(typing.get_type_hints(fn)["return"], fn.__name__), fn.__name__


def test_read_models_are_frozen_dataclasses_all_the_way_down() -> None:
    """Nested read models (a detail's rows) are frozen dataclasses too."""
    seen: set[type] = set()
    todo = [hint for _, fn in public_functions() for hint in [typing.get_type_hints(fn)["return"]]]
    while todo:
        hint = todo.pop()
        if dataclasses.is_dataclass(hint) and isinstance(hint, type) and hint not in seen:
            seen.add(hint)
            assert hint.__dataclass_params__.frozen, hint  # type: ignore[attr-defined]
            todo.extend(typing.get_type_hints(hint).values())
        todo.extend(typing.get_args(hint))
    assert len(seen) > 30


# -------------------------------------------------------------------- pages
#: ``roles & {...}`` / ``roles - {...}``, ``X in me.roles`` (but not ``for r in me.roles``), ``Role.X in ...``.
ROLE_SET_CHECK = re.compile(r"\.roles\s*[&|-]|(?<!for )\b[\w.]+\s+(?:not\s+)?in\s+\w+\.roles\b"
                            r"|Role\.[A-Z]+\s+(?:not\s+)?in\b")
PAGE_FILES = sorted((ROOT / "pages").glob("*.py")) + [ROOT / "dashboard.py"]


def test_the_role_set_pattern_finds_what_it_should() -> None:
    for line in ("if me.roles & {Role.FACILITATOR, Role.STEERING}:", "if Role.STEERING in me.roles:",
                 "value=Role.AUDITOR not in me.roles", "if person.roles - {Role.AUDITOR}:"):
        assert ROLE_SET_CHECK.search(line), line
    for line in ("if allowed(me.roles, Action.CLOSE_VOTE):", "sorted(label(r) for r in person.roles)",
                 "[r.value for r in Role]"):
        assert not ROLE_SET_CHECK.search(line), line


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_no_page_holds_a_role_set_of_its_own(path: Path) -> None:
    found = [f"{path.name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
             if ROLE_SET_CHECK.search(line)]
    assert not found, "ask rules.permissions.allowed or a may_* field instead:\n" + "\n".join(found)


def test_queries_import_nothing_from_services() -> None:
    for path in sorted((ROOT / "governance" / "queries").glob("*.py")):
        text = path.read_text()
        assert not re.search(r"from governance(\.services| import services)", text), path.name
