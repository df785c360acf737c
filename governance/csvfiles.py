"""Validation of uploaded CSV files, as a whole, with errors by line number.

Evidence from many sites arrives as spreadsheets. A file is accepted only if
every row is valid; otherwise nothing is written and the person gets the
list of what to fix, line by line.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from governance.errors import InvalidInput
from governance.record.chain import sha256_hex
from governance.validation import MAX_COUNT

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_LISTED_ERRORS = 20


class FileRejected(InvalidInput):
    """The file was refused; ``errors`` lists (line, message) pairs."""

    def __init__(self, filename: str, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        self.filename = filename
        listed = "; ".join(f"line {n}: {m}" if n else m for n, m in errors[:MAX_LISTED_ERRORS])
        more = f" (and {len(errors) - MAX_LISTED_ERRORS} more)" if len(errors) > MAX_LISTED_ERRORS else ""
        super().__init__(f"'{filename}' was not imported — nothing was saved. Fix these and upload it "
                         f"again: {listed}{more}.")


#: What to do about a problem in each column of the files the product imports (usage,
#: measurements, people); a problem of the file as a whole gets the last line.
FIX_BY_COLUMN: dict[str, str] = {
    "week_start": "Write the Monday of the week as YYYY-MM-DD, from the week real use began up to this week; "
                  "each week once.",
    "active_users": "Write a whole number with the digits 0–9, no more than eligible_users.",
    "eligible_users": "Write a whole number with the digits 0–9: the people rostered that week.",
    "measure": "Use the exact name of one of the pilot's commissioning metrics or frontline criteria.",
    "observed_on": "Write the date as YYYY-MM-DD.",
    "value": "Write a number in the measure's unit range (a percentage 0–100, a share 0–1, a rating 1–5).",
}
WHOLE_FILE_FIX = "Fix the file in your spreadsheet, save it as CSV UTF-8, and upload it again."


def problem_table(errors: list[tuple[int, str]], columns: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """A refused file's problems as rows a person can work down: line, column, problem,
    what to do — instead of one long sentence."""
    rows = []
    known = columns or tuple(FIX_BY_COLUMN)
    for line, message in errors:
        column = next((c for c in known if message.startswith(c) or f" {c} " in f" {message} "), "")
        if not column and message.startswith("week ") and "week_start" in known:
            column = "week_start"  # "week 2026-03-02 repeats line 4", "… was already imported"
        rows.append({"Line": str(line) if line else "whole file", "Column": column or "—", "Problem": message,
                     "What to do": FIX_BY_COLUMN.get(column, WHOLE_FILE_FIX)})
    return rows


@dataclass(frozen=True)
class ParsedFile:
    filename: str
    sha256: str
    byte_size: int
    rows: list[dict[str, Any]]


def parse_csv(filename: str, content: bytes, columns: tuple[str, ...],
              parse_row: Callable[[dict[str, str]], dict[str, Any]]) -> ParsedFile:
    """Decode, check the header, parse every row; raise ``FileRejected`` on any error.

    ``parse_row`` raises ``ValueError`` with a message for a bad row. Long on purpose: every
    check of the file as a whole (name, size, encoding, header, rows) in the order a person fixes them.
    """
    raw_name = filename if isinstance(filename, str) else ""
    name = "".join(ch if ch.isprintable() else "?" for ch in raw_name).strip()[:255] or "upload.csv"
    if any(not ch.isprintable() or unicodedata.category(ch) == "Cf" for ch in raw_name):
        raise FileRejected(name, [(0, "the file name contains control or invisible characters; rename "
                                      "the file with plain letters, digits, dashes and dots")])
    if not isinstance(content, (bytes, bytearray)):
        raise FileRejected(name, [(0, "the upload is not a file")])
    if len(content) == 0:
        raise FileRejected(name, [(0, "the file is empty")])
    if len(content) > MAX_BYTES:
        raise FileRejected(name, [(0, f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")])
    try:
        decoded = bytes(content).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(name, [(0, f"the file is not UTF-8 text (byte {exc.start}); in your "
                                      "spreadsheet choose 'Save as CSV UTF-8'")]) from None
    if "\x00" in decoded:
        raise FileRejected(name, [(0, "the file contains binary data, not CSV text")])
    reader = csv.reader(io.StringIO(decoded, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileRejected(name, [(1, f"unreadable CSV ({exc})")]) from None
    if header is None or not any(h.strip() for h in header):
        raise FileRejected(name, [(0, "the file is empty")])
    found = tuple(h.strip().lower() for h in header)
    if found != columns:
        raise FileRejected(name, [(1, f"the header must be exactly '{','.join(columns)}' "
                                      f"(found '{','.join(found)}')")])
    rows: list[dict[str, Any]] = []
    errors: list[tuple[int, str]] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue  # blank lines are harmless
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append((line, f"more than {MAX_ROWS:,} rows; split the file"))
                break
            if len(cells) != len(columns):
                errors.append((line, f"expected {len(columns)} values, found {len(cells)}"))
                continue
            try:
                parsed = parse_row(dict(zip(columns, (c.strip() for c in cells), strict=True)))
            except ValueError as exc:
                errors.append((line, str(exc)))
                continue
            parsed["_line"] = line
            rows.append(parsed)
    except csv.Error as exc:
        errors.append((reader.line_num, f"unreadable CSV ({exc})"))
    if errors:
        raise FileRejected(name, errors)
    if not rows:
        raise FileRejected(name, [(0, "the file has a header but no rows")])
    return ParsedFile(name, sha256_hex(bytes(content)), len(content), rows)


def parse_whole(value: str, label: str, *, maximum: int = MAX_COUNT) -> int:
    """A count written with the digits 0–9, from 0 to ``maximum`` (10^9 by default)."""
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise ValueError(f"{label} '{value[:40]}' is not a whole number written with the digits 0–9")
    if value.startswith("-") and value.strip("-0"):
        raise ValueError(f"{label} {value} is negative")
    if len(value.lstrip("+-0")) > len(str(maximum)) or int(value) > maximum:
        raise ValueError(f"{label} {value[:40]} is more than {maximum:,}; check the number")
    return int(value)


def neutralise_cell(value: Any) -> Any:
    """A cell a spreadsheet will show as text, never run as a formula (OWASP "CSV injection"):
    text beginning with =, +, -, @, a tab or a carriage return gets a leading apostrophe."""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return "'" + value
    return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def to_csv(records: list[dict[str, Any]], columns: list[str] | None = None) -> bytes:
    """The CSV (UTF-8 with a BOM, so spreadsheets read accents right) of ``records``, every
    cell neutralised. The one way the product writes a CSV."""
    names = columns or list(dict.fromkeys(k for r in records for k in r))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralise_cell(str(n)) for n in names])
    for record in records:
        writer.writerow([neutralise_cell(_cell(record.get(n))) for n in names])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if isinstance(value, (int, float)) else str(value)


def sample_usage_rows(real_use_began: date, today: date, eligible: int,
                      imported: set[date]) -> list[dict[str, Any]]:
    """A usage file that imports into one pilot as it stands: every week from the Monday
    real use began up to this week that has no usage yet, active users rising towards
    the rostered ``eligible`` — for trying the import on the demo, and as a template."""
    week = real_use_began - timedelta(days=real_use_began.weekday())
    rows: list[dict[str, Any]] = []
    while week <= today:
        if week not in imported:
            active = min(eligible, eligible * min(len(rows) + 1, 8) // 10)
            rows.append({"week_start": week.isoformat(), "active_users": active, "eligible_users": eligible})
        week += timedelta(weeks=1)
    return rows
