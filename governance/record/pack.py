"""R18: the auditor pack, and verifying a chain against every checkpoint ever kept.

The pack is one zip an auditor takes away: the chain export (JSON Lines),
every checkpoint with its signatures and witnesses' cosignatures, the
public key that signs checkpoints, the witnesses' public keys, the decisions
with their frozen bases, and a README saying how to verify it, with nothing
but Python and this package::

    python -m governance.audit verify-pack auditor-pack.zip

``verify_all`` is the whole check, offline: the chain links; every
checkpoint is signed by the key and states exactly the event the chain holds
at that size (a history rewritten with every hash recomputed fails here);
every cosignature verifies; every decision's basis matches its SHA-256, the
declaration event that names it, and the chain head it recorded.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from governance.record import checkpoints as notes
from governance.record.chain import (
    ChainVerification,
    EventRecord,
    canonical_json,
    record_from_export,
    sha256_hex,
    verify_events,
)

CHAIN = "chain.jsonl"
CHECKPOINTS = "checkpoints.txt"
PUBLIC_KEY = "checkpoint-public-key.pem"
WITNESSES = "witness-keys.json"
DECISIONS = "decisions.jsonl"
README = "README.txt"

PACK_README = """Auditor pack: {organisation}
Made {made} UTC from a record of {events:,} events (head #{seq} {head}).

What is inside
  {chain:<26} the whole audit chain, one event per line (JSON Lines)
  {checkpoints:<26} every signed checkpoint of the chain's head, with the witnesses' cosignatures
  {public_key:<26} the Ed25519 public key that signs the checkpoints (keep a copy elsewhere)
  {witnesses:<26} the public keys of the auditors who witnessed checkpoints
  {decisions:<26} every binding decision with its frozen basis

How to verify it (any machine with Python 3.11+ and this package installed:
pip install -r requirements.txt in a copy of the repository)

  python -m governance.audit verify-pack THIS-FILE.zip

or, unpacked, the same checks one by one:

  python -m governance.audit verify {chain} --checkpoints {checkpoints} \\
      --public-key {public_key} --witnesses {witnesses} --decisions {decisions}

It checks that the chain links from its first event to its last; that every
checkpoint is signed by the public key and states exactly the event the chain
holds at that position (a rewritten history, even with every hash recomputed,
fails at the first checkpoint after the rewrite); that every witness's
cosignature verifies; and that every decision's basis matches its SHA-256, the
declaration event that names it, and the chain head it recorded. Compare the
public key with the one you kept from an earlier pack: a different key means
different signatures, not the same log.
"""


@dataclass
class PackVerification:
    """Everything ``verify_all`` found: ok, or the first problem of each kind."""

    chain: ChainVerification | None = None
    checkpoints: int = 0
    cosignatures: int = 0
    decisions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and self.chain is not None and self.chain.ok

    @property
    def summary(self) -> str:
        if self.ok and self.chain is not None:
            return (f"The record verifies: {self.chain.events_checked:,} events, {self.checkpoints} signed "
                    f"checkpoint(s), {self.cosignatures} cosignature(s), {self.decisions} decision(s) with "
                    f"intact bases; head #{self.chain.head_seq} {self.chain.head_hash[:12]}….")
        return "The record does NOT verify:\n  - " + "\n  - ".join(self.problems)


def checkpoint_heads(checkpoint_notes: Iterable[str], key: Ed25519PublicKey, problems: list[str],
                     witnesses: Mapping[str, str] | None = None) -> tuple[dict[int, str], int, int]:
    """(seq → hash of every checkpoint that verifies, checkpoints verified, cosignatures verified);
    what does not verify is appended to ``problems``."""
    heads: dict[int, str] = {}
    cosigned = verified = 0
    for n, note in enumerate(checkpoint_notes, start=1):
        text, signatures = notes.split_note(note)
        body = notes.parse_body(text)
        try:
            notes.verify(note, body.origin, key)
        except notes.CheckpointError as exc:
            problems.append(f"checkpoint {n} (#{body.size}): {exc}")
            continue
        if heads.get(body.size, body.head_hash) != body.head_hash:
            problems.append(f"checkpoint {n}: two signed checkpoints disagree about event #{body.size}")
            continue
        heads[body.size] = body.head_hash
        verified += 1
        for name, _ in signatures:
            if name == body.origin:
                continue
            raw = (witnesses or {}).get(name)
            if raw is None:
                problems.append(f"checkpoint {n} (#{body.size}): cosigned by {name}, whose public key is not given")
                continue
            line = next(line for line in note.split("\n") if line.startswith(f"{notes.DASH} {name} "))
            try:
                notes.verify_cosignature(note, line, name, notes.public_key_from_raw(raw))
                cosigned += 1
            except notes.CheckpointError as exc:
                problems.append(f"checkpoint {n} (#{body.size}): {exc}")
    return heads, verified, cosigned


def verify_decisions(decisions: Iterable[Mapping[str, Any]], declared: Mapping[str, str],
                     hashes: Mapping[int, str], problems: list[str]) -> int:
    """Each decision's basis against its hash, its declaration event and its chain head."""
    count = 0
    for d in decisions:
        count += 1
        what = f"decision #{d['id']}"
        body = canonical_json(d["basis"])
        if sha256_hex(body) != d["basis_sha256"]:
            problems.append(f"{what}: its basis does not match its SHA-256 (the basis was altered)")
        if declared.get(str(d["id"])) != d["basis_sha256"]:
            problems.append(f"{what}: the chain's declaration event names another basis hash "
                            "(the basis and its hash were rewritten together)")
        if hashes.get(int(d["chain_head_seq"])) not in (None, d["chain_head_hash"]):
            problems.append(f"{what}: the chain head it recorded is not the event at #{d['chain_head_seq']}")
    return count


def _watch(events: Iterable[EventRecord], declared: dict[str, str], wanted: set[int],
           hashes: dict[int, str]) -> Iterator[EventRecord]:
    """Pass events through, noting declaration hashes and the hashes at the sequence numbers wanted."""
    for ev in events:
        if ev.action == "decision.declared":
            declared[ev.entity_id] = json.loads(ev.payload)["after"]["basis_sha256"]
        if ev.seq in wanted:
            hashes[ev.seq] = ev.hash
        yield ev


def verify_all(events: Iterable[EventRecord], *, checkpoint_notes: Iterable[str] = (),
               public_key: Ed25519PublicKey | None = None, witnesses: Mapping[str, str] | None = None,
               decisions: Iterable[Mapping[str, Any]] = (), kept_heads: Iterable[tuple[int, str]] = ()
               ) -> PackVerification:
    """The chain against every kept head and signed checkpoint, the cosignatures, the decisions."""
    result = PackVerification()
    checkpoint_notes = list(checkpoint_notes)
    heads: dict[int, str] = dict(kept_heads)
    if checkpoint_notes:
        if public_key is None:
            result.problems.append("checkpoints were given without the public key that signs them")
        else:
            signed, result.checkpoints, result.cosignatures = checkpoint_heads(
                checkpoint_notes, public_key, result.problems, witnesses)
            for seq, digest in signed.items():
                if heads.get(seq, digest) != digest:
                    result.problems.append(f"a kept head and a signed checkpoint disagree about event #{seq}")
                heads[seq] = digest
    decisions = list(decisions)
    declared: dict[str, str] = {}
    hashes: dict[int, str] = {}
    wanted = {int(d["chain_head_seq"]) for d in decisions}
    by_hash: dict[str, int] = {}
    result.chain = verify_events(_watch(events, declared, wanted, hashes), locate_hash=by_hash.get,
                                 kept_heads=heads)
    if not result.chain.ok:
        result.problems.insert(0, result.chain.summary)
    result.decisions = verify_decisions(decisions, declared, hashes, result.problems)
    return result


# --------------------------------------------------------------- the pack
def build(*, events: Iterable[str], checkpoint_notes: Iterable[str], public_key_pem: bytes,
          witnesses: Mapping[str, str], decisions: Iterable[Mapping[str, Any]], organisation: str,
          made: str, head: tuple[int, str], count: int) -> bytes:
    """The pack as zip bytes (``events``: JSON Lines lines of the export)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        with z.open(CHAIN, "w") as out:
            for line in events:
                out.write((line + "\n").encode("utf-8"))
        z.writestr(CHECKPOINTS, "\n".join(checkpoint_notes))
        z.writestr(PUBLIC_KEY, public_key_pem)
        z.writestr(WITNESSES, json.dumps(dict(witnesses), indent=2, sort_keys=True))
        z.writestr(DECISIONS, "".join(json.dumps(dict(d), ensure_ascii=False) + "\n" for d in decisions))
        z.writestr(README, PACK_README.format(organisation=organisation, made=made, events=count, seq=head[0],
                                              head=head[1][:16] + "…", chain=CHAIN, checkpoints=CHECKPOINTS,
                                              public_key=PUBLIC_KEY, witnesses=WITNESSES, decisions=DECISIONS))
    return buffer.getvalue()


def _lines(z: zipfile.ZipFile, name: str) -> Iterator[str]:
    with z.open(name) as raw:
        for line in io.TextIOWrapper(raw, encoding="utf-8"):
            if line.strip():
                yield line


def verify_pack(path: Path | io.BytesIO) -> PackVerification:
    """Verify an auditor pack (a zip file or its bytes) offline."""
    from governance.identity.keys import load_public_key

    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
            missing = {CHAIN, CHECKPOINTS, PUBLIC_KEY, DECISIONS} - names
            if missing:
                return PackVerification(problems=[f"the pack lacks {', '.join(sorted(missing))}"])
            key = load_public_key(z.read(PUBLIC_KEY))
            witnesses = json.loads(z.read(WITNESSES)) if WITNESSES in names else {}
            checkpoint_notes = notes.split_notes(z.read(CHECKPOINTS).decode("utf-8"))
            decisions = [json.loads(line) for line in _lines(z, DECISIONS)]
            events = (record_from_export(json.loads(line)) for line in _lines(z, CHAIN))
            return verify_all(events, checkpoint_notes=checkpoint_notes, public_key=key, witnesses=witnesses,
                              decisions=decisions)
    except (zipfile.BadZipFile, ValueError, KeyError, notes.CheckpointError) as exc:
        return PackVerification(problems=[f"the pack cannot be read: {exc}"])
