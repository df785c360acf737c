"""Audit events of the record itself: signed checkpoints and their witnesses (R18)."""
from __future__ import annotations

from governance.record.events.base import Event, event


def checkpoint_made(*, checkpoint_id: int, seq: int, head_hash: str, reason: str, key_id: str) -> Event:
    """The chain's head at ``seq`` was signed (at a declaration, daily, or on request)."""
    return event("checkpoint.made", ("checkpoint", checkpoint_id),
                 after={"seq": seq, "head_hash": head_hash, "reason": reason, "key_id": key_id})


def checkpoint_witnessed(*, checkpoint_id: int, seq: int, witness_name: str, key_id: str) -> Event:
    """An auditor cosigned a checkpoint: they saw this head and keep it outside the system."""
    return event("checkpoint.witnessed", ("checkpoint", checkpoint_id),
                 after={"seq": seq, "witness_name": witness_name, "key_id": key_id})
