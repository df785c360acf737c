"""Export and verify the audit record from the command line (R11).

    python -m governance.audit export audit-chain.jsonl        # prints the head to keep
    python -m governance.audit verify audit-chain.jsonl --head SEQ:HASH [--head …]

``verify`` runs offline, on any machine with Python and this package: it
needs no database. Every ``--head`` kept earlier is checked against the
event at that sequence number wherever it falls in the export, so a history
rewritten with every later hash recomputed is refused.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from governance.record.chain import verify_export_file


def _head(value: str) -> tuple[int, str]:
    seq_text, _, digest = value.partition(":")
    if not seq_text.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise argparse.ArgumentTypeError(f"{value!r} is not SEQ:HASH, e.g. 1204:9f86d08… (64 hex digits)")
    return int(seq_text), digest


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m governance.audit",
                                     description="Export and verify the hash-chained audit record.")
    commands = parser.add_subparsers(dest="command", required=True)
    verify = commands.add_parser("verify", help="verify an export offline")
    verify.add_argument("export", type=Path, help="a JSON Lines export")
    verify.add_argument("--head", type=_head, action="append", default=[], metavar="SEQ:HASH",
                        help="a head kept earlier (repeatable): the event at SEQ must carry HASH")
    export = commands.add_parser("export", help="export the whole chain from the database")
    export.add_argument("output", type=Path, help="the JSON Lines file to write")
    export.add_argument("--database-url", help="default: DATABASE_URL, else the SQLite file under data/")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 verified or exported, 1 broken, 2 bad use)."""
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command == "export":
        from governance.record.log import export_to_file
        from governance.storage.db import Database

        db = Database(args.database_url)
        try:
            with db.uow().reading() as session:
                seq, digest = export_to_file(session, args.output)
        finally:
            db.dispose()
        print(f"Exported {seq:,} events to {args.output}. Keep the head to verify against later: "
              f"--head {seq}:{digest}")
        return 0
    if not args.export.exists():
        print(f"No such file: {args.export}")
        return 2
    try:
        result = verify_export_file(args.export, args.head)
    except ValueError as exc:
        print(f"Cannot verify {args.export}: {exc}")
        return 2
    print(result.summary)
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
