"""The shape every audit event shares."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from governance.record.chain import canonical_json


@dataclass(frozen=True)
class Event:
    """One audit event before it is chained: what happened, to what, with its payload."""

    action: str
    entity_type: str
    entity_id: str
    payload: dict[str, Any] = field(default_factory=dict)
    #: Recorded without the actor's id (the name stands instead): a secret
    #: ballot changed, where naming the voter would pair them with the change.
    anonymous: str | None = None

    def payload_json(self) -> str:
        return canonical_json(self.payload)


def event(action: str, entity: tuple[str, Any], *, before: Any = None, after: Any = None,
          anonymous: str | None = None, **extra: Any) -> Event:
    """An event on ``entity`` = (type, id) with the standard payload shape."""
    entity_type, entity_id = entity
    return Event(action, entity_type, str(entity_id), {"before": before, "after": after, **extra},
                 anonymous)
