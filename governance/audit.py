"""The audit record from the command line (R11, R18).

    python -m governance.audit export audit-chain.jsonl          # prints the head to keep
    python -m governance.audit verify audit-chain.jsonl [--head SEQ:HASH …]
        [--checkpoints checkpoints.txt --public-key key.pem] [--witnesses w.json] [--decisions d.jsonl]
    python -m governance.audit pack auditor-pack.zip             # everything an auditor takes away
    python -m governance.audit verify-pack auditor-pack.zip
    python -m governance.audit keygen PATH                       # the checkpoint signing key
    python -m governance.audit ballot-keygen PATH                # the secret-ballot key
    python -m governance.audit cosign checkpoint.txt --key my-key.pem --name NAME

``verify`` and ``verify-pack`` run offline, on any machine with Python and
this package: they need no database. Every kept ``--head`` and every signed
checkpoint is checked against the event at its sequence number wherever it
falls in the export, so a history rewritten with every later hash
recomputed is refused at the first kept head after the rewrite.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from governance.record.chain import read_export
from governance.record.pack import verify_all, verify_pack


def _head(value: str) -> tuple[int, str]:
    seq_text, _, digest = value.partition(":")
    if not seq_text.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise argparse.ArgumentTypeError(f"{value!r} is not SEQ:HASH, e.g. 1204:9f86d08… (64 hex digits)")
    return int(seq_text), digest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m governance.audit",
                                     description="Export, pack and verify the hash-chained audit record.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an export offline")
    verify.add_argument("export", type=Path, help="a JSON Lines export")
    verify.add_argument("--head", type=_head, action="append", default=[], metavar="SEQ:HASH",
                        help="a head kept earlier (repeatable): the event at SEQ must carry HASH")
    verify.add_argument("--checkpoints", type=Path, help="a file of signed checkpoints (any number)")
    verify.add_argument("--public-key", type=Path, help="the PEM public key that signs the checkpoints")
    verify.add_argument("--witnesses", type=Path, help="JSON: witness name → public key (base64)")
    verify.add_argument("--decisions", type=Path, help="JSON Lines of decisions with their bases")
    pack = commands.add_parser("verify-pack", help="verify an auditor pack offline")
    pack.add_argument("pack", type=Path)
    for name, text in (("export", "export the whole chain from the database"),
                       ("pack", "write the auditor pack (zip) from the database")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("output", type=Path)
        sub.add_argument("--database-url", help="default: DATABASE_URL, else the SQLite file under data/")
    for name, text in (("keygen", "make a new checkpoint signing key (Ed25519, PEM)"),
                       ("ballot-keygen", "make a new secret-ballot key")):
        commands.add_parser(name, help=text).add_argument("path", type=Path)
    cosign = commands.add_parser("cosign", help="cosign a checkpoint as a witness (prints the line)")
    cosign.add_argument("checkpoint", type=Path, help="the checkpoint note (as shown on the Audit page)")
    cosign.add_argument("--key", type=Path, required=True, help="your Ed25519 private key (PEM)")
    cosign.add_argument("--name", required=True, help="your witness name (one word)")
    return parser


def _verify(args: argparse.Namespace) -> int:
    from governance.identity.keys import load_public_key
    from governance.record.checkpoints import split_notes

    for path in (args.export, args.checkpoints, args.public_key, args.witnesses, args.decisions):
        if path is not None and not path.exists():
            print(f"No such file: {path}")
            return 2
    try:
        key = load_public_key(args.public_key.read_bytes()) if args.public_key else None
        checkpoint_notes = split_notes(args.checkpoints.read_text(encoding="utf-8")) if args.checkpoints else []
        witnesses = json.loads(args.witnesses.read_text(encoding="utf-8")) if args.witnesses else {}
        decisions: list[dict[str, Any]] = ([json.loads(line) for line in args.decisions.read_text("utf-8").splitlines()
                                            if line.strip()] if args.decisions else [])
        result = verify_all(read_export(args.export), checkpoint_notes=checkpoint_notes, public_key=key,
                            witnesses=witnesses, decisions=decisions, kept_heads=args.head)
    except ValueError as exc:
        print(f"Cannot verify {args.export}: {exc}")
        return 2
    print(result.summary)
    return 0 if result.ok else 1


def _from_database(args: argparse.Namespace) -> int:
    from governance.record.live import make_pack
    from governance.record.log import export_to_file
    from governance.storage.db import Database

    db = Database(args.database_url)
    try:
        with db.uow().reading() as session:
            if args.command == "export":
                seq, digest = export_to_file(session, args.output)
                print(f"Exported {seq:,} events to {args.output}. Keep the head to verify against later: "
                      f"--head {seq}:{digest}")
            else:
                args.output.write_bytes(make_pack(session, db.keys, db.clock.now()))
                print(f"Wrote the auditor pack {args.output}. Verify it with: "
                      f"python -m governance.audit verify-pack {args.output}")
    finally:
        db.dispose()
    return 0


def _keys(args: argparse.Namespace) -> int:
    from governance.identity.keys import load_private_key, public_key_pem, write_ballot_key, write_signing_key
    from governance.record.checkpoints import cosign

    try:
        if args.command == "keygen":
            public = write_signing_key(args.path)
            print(f"Wrote the signing key {args.path}. Its public key (give it to your auditors):")
            print(public_key_pem(public).decode("ascii"), end="")
        elif args.command == "ballot-keygen":
            write_ballot_key(args.path)
            print(f"Wrote the ballot key {args.path}. Keep it outside the database and back it up separately.")
        else:
            line = cosign(args.checkpoint.read_text(encoding="utf-8"), args.name,
                          load_private_key(args.key.read_bytes()))
            print(line)
    except FileExistsError:
        print(f"{args.path} already exists; a key is never overwritten.")
        return 2
    except (OSError, ValueError) as exc:
        print(f"Cannot do that: {exc}")
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 done/verified, 1 does not verify, 2 bad use)."""
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "verify":
        return _verify(args)
    if args.command == "verify-pack":
        if not args.pack.exists():
            print(f"No such file: {args.pack}")
            return 2
        result = verify_pack(args.pack)
        print(result.summary)
        return 0 if result.ok else 1
    if args.command in ("export", "pack"):
        return _from_database(args)
    return _keys(args)


if __name__ == "__main__":
    raise SystemExit(main())
