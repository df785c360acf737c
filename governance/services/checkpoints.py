"""R18: signing the chain's head (checkpoints) and auditors witnessing them.

A checkpoint is made in the same transaction as every declaration, and at
least daily by the scheduled job; the signing key lives outside the
database (``identity.keys``). An auditor witnesses a checkpoint by adding
their cosignature, made with their own key: with the private key file they
hand over for that one act (it is used in memory and never stored), or a
cosignature line they made offline with ``python -m governance.audit cosign``.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from governance.errors import InvalidInput, RuleViolation
from governance.identity.actors import require
from governance.identity.keys import load_private_key, load_public_key
from governance.record import checkpoints as notes
from governance.record.events import record as events
from governance.record.log import chain_head
from governance.rules.permissions import Action
from governance.services._base import get, log, session_of
from governance.storage.db import UnitOfWork, use_case
from governance.storage.models import Checkpoint, CheckpointWitness
from governance.storage.repository import organisation_name
from governance.validation import NAME_MAX, text

DAILY = timedelta(hours=24)


def make_checkpoint(uow: UnitOfWork, reason: str) -> Checkpoint:
    """Sign the chain's current head, in the caller's transaction."""
    s = session_of(uow)
    seq, head = chain_head(s)
    key = uow.keys.signing_key()
    origin = notes.origin_for(organisation_name(s))
    note = notes.sign(notes.CheckpointBody(origin, seq, head), origin, key)
    checkpoint = Checkpoint(seq=seq, head_hash=head, origin=origin, key_id=notes.key_id(origin, key.public_key()),
                            note=note, reason=reason, made_at=uow.now())
    s.add(checkpoint)
    s.flush()
    log(uow, None, events.checkpoint_made(checkpoint_id=checkpoint.id, seq=seq, head_hash=head, reason=reason,
                                          key_id=checkpoint.key_id))
    return checkpoint


@use_case
def checkpoint_if_due(uow: UnitOfWork) -> int | None:
    """The scheduled job's daily checkpoint: made when the newest is a day old (or there is none)
    and the chain has moved since. Returns the checkpoint's id, or None."""
    s = session_of(uow)
    latest = s.scalar(select(Checkpoint).order_by(Checkpoint.id.desc()).limit(1))
    seq, _ = chain_head(s)
    if seq == 0 or (latest is not None and (latest.made_at > uow.now() - DAILY or latest.seq >= seq)):
        return None
    return make_checkpoint(uow, "daily").id


@use_case
def witness_checkpoint(uow: UnitOfWork, actor_id: int, checkpoint_id: int, *, witness_name: str,
                       private_key_pem: bytes | None = None, cosignature: str | None = None,
                       public_key_pem: bytes | None = None) -> int:
    """An auditor cosigns a checkpoint (R18): with their private key (used in memory only),
    or with a cosignature line made offline and the public key to check it."""
    s = session_of(uow)
    actor = require(s, actor_id, Action.WITNESS_CHECKPOINT)
    checkpoint = get(s, Checkpoint, checkpoint_id, "checkpoint")
    name = text(witness_name, "Witness name", max_len=NAME_MAX)
    if any(ch.isspace() for ch in name) or "+" in name:
        raise InvalidInput("A witness name is one word without spaces or '+', e.g. tomasz.nowak.audit.",
                           field="Witness name")
    if (private_key_pem is None) == (cosignature is None):
        raise InvalidInput("Give either your private key file, or a cosignature line with your public key.")
    try:
        if private_key_pem is not None:
            private = load_private_key(private_key_pem)
            public = private.public_key()
            line = notes.cosign(checkpoint.note, name, private, uow.now())
        else:
            if public_key_pem is None:
                raise InvalidInput("A cosignature made offline needs your public key (PEM) to check it.")
            public = load_public_key(public_key_pem)
            line = (cosignature or "").strip()
        notes.verify_cosignature(checkpoint.note, line, name, public)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(f"The cosignature does not check out ({exc}); nothing was recorded. Use an Ed25519 "
                           "key in PEM form, and cosign this exact checkpoint.") from None
    key_id = notes.key_id(name, public, notes.SIG_COSIGNATURE)
    if s.scalar(select(CheckpointWitness.id).where(CheckpointWitness.checkpoint_id == checkpoint.id,
                                                   CheckpointWitness.key_id == key_id)):
        raise RuleViolation("This key has already witnessed this checkpoint.", rule="R18")
    witness = CheckpointWitness(checkpoint_id=checkpoint.id, person_id=actor.id, witness_name=name, key_id=key_id,
                                public_key=notes.raw_public_key(public), cosignature=line,
                                witnessed_at=uow.now())
    s.add(witness)
    s.flush()
    log(uow, actor, events.checkpoint_witnessed(checkpoint_id=checkpoint.id, seq=checkpoint.seq,
                                                witness_name=name, key_id=key_id))
    return witness.id
