"""Which pages each role may open (the router shows only these; each page
re-checks on load; every action is re-checked again by its use case)."""
from __future__ import annotations

from governance.vocabulary import Role

F, FA, C, S, AU, AD = (Role.FRONTLINE, Role.FACILITATOR, Role.COMMISSIONING, Role.STEERING,
                       Role.AUDITOR, Role.ADMIN)
ALL = frozenset(Role)

PAGE_ROLES: dict[str, frozenset[Role]] = {
    "home": ALL,
    "problems": frozenset({F, FA, C, S}),
    "pilots": frozenset({C, FA, S}),
    "evaluate": frozenset({F, FA, C}),
    "votes": frozenset({F, FA, C, S, AU}),
    "compare": frozenset({S, AU, C}),
    "audit": frozenset({AU}),
    "admin": frozenset({AD, S}),
}


def may_open(roles: frozenset[Role] | set[Role], page: str) -> bool:
    return bool(set(roles) & PAGE_ROLES.get(page, frozenset()))


def pages_for(roles: frozenset[Role] | set[Role]) -> list[str]:
    return [p for p in PAGE_ROLES if may_open(roles, p)]
