"""Domain errors.

Every refusal the product makes is one of these, with a message written for
the person who caused it: what rule stopped them and what to do instead.
Pages show ``str(error)`` as it is; nothing else reaches a user.
"""
from __future__ import annotations


class GovernanceError(Exception):
    """Base of every refusal the governance layer makes."""

    #: The rule behind the refusal (e.g. "R1", see docs/rules.md), when there is one.
    rule: str | None = None

    def __init__(self, message: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        if rule is not None:
            self.rule = rule

    @property
    def message(self) -> str:
        return str(self)


class InvalidInput(GovernanceError):
    """The input itself is wrong (empty, too long, out of range, malformed)."""

    def __init__(self, message: str, *, field: str | None = None,
                 problems: dict[str, str] | None = None, rule: str | None = None) -> None:
        super().__init__(message, rule=rule)
        self.field = field
        #: For multi-field forms (e.g. a charter): one message per field.
        self.problems = problems or ({field: message} if field else {})


class NotFound(GovernanceError):
    """An id that does not name anything."""


class PermissionDenied(GovernanceError):
    """R14: the actor's roles (or panel membership, R2) do not allow this."""

    rule = "R14"


class RuleViolation(GovernanceError):
    """A rule of the charter the software enforces (R1–R18, docs/rules.md) forbids this path."""


class ConflictOfInterest(RuleViolation):
    """R8: a member of the pilot's commissioning team tried to vote as frontline."""

    rule = "R8"


class StorageBusy(GovernanceError):
    """The database stayed busy (lock contention, serialization failures)
    after the bounded retries; nothing was written."""


class StorageFull(GovernanceError):
    """The database (or its disk) is full; nothing was written."""


class SignInFailed(GovernanceError):
    """The email and password did not work (unknown account, wrong password or a
    throttled attempt: one message for all three), or the identity provider's
    proof was not enough."""
