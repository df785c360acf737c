"""Input checks shared by the use cases. Each refusal says what to do."""
from __future__ import annotations

import contextlib
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from governance.errors import GovernanceError, InvalidInput, RuleViolation

TITLE_MAX = 200
NAME_MAX = 120
TEXT_MAX = 4000
REASON_MIN = 10
#: Ids are 32-bit on PostgreSQL (and far beyond any real table on SQLite).
MAX_ID = 2_147_483_647
#: The largest count (people, cases, users) any input may hold.
MAX_COUNT = 10 ** 9
#: Whole numbers are written with at most this many digits (int("9" * 5000) is an attack, not a count).
MAX_DIGITS = 18
EMAIL_MAX = 254

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

#: Characters that change how text is displayed without being seen: the
#: bidirectional embeddings, overrides and isolates ("Trojan source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
#: Letters that render as nothing (Hangul and braille fillers).
_INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_WHOLE = re.compile(r"[+-]?[0-9]+")


def _hidden(ch: str) -> bool:
    """Invisible in a name: format characters (zero-width space, joiners, BOM, soft
    hyphen, bidi controls…) and letters that render as nothing."""
    return unicodedata.category(ch) == "Cf" or ch in _INVISIBLE_LETTERS


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'unnamed character')}"


def _check_characters(cleaned: str, label: str, *, single_line: bool) -> None:
    for ch in cleaned:
        if ch in "\n\t\r":
            if single_line:
                raise InvalidInput(f"{label} contains a line break or tab; write it on one line.",
                                   field=label)
        elif unicodedata.category(ch) == "Cc":
            raise InvalidInput(f"{label} contains control characters; remove them and try again.",
                               field=label)
        if ch in _BIDI_CONTROLS or (single_line and _hidden(ch)):
            kind = "a text-direction control" if ch in _BIDI_CONTROLS else "an invisible character"
            raise InvalidInput(f"{label} contains {kind} ({_describe(ch)}), which would make it look "
                               "like something else; retype it without that character.", field=label)


def text(value: Any, label: str, *, max_len: int = TEXT_MAX, required: bool = True,
         min_len: int = 1, single_line: bool | None = None) -> str:
    """Trimmed text; refuses non-text, blank (when required) and over-long text.

    Names and titles (``single_line``; by default any text of at most
    ``TITLE_MAX`` characters) are NFKC-normalised — so full-width letters,
    ligatures and superscripts compare as what they look like — and refused
    when they hold line breaks or invisible or bidirectional control
    characters: two names that look the same must be the same name. Longer
    text is NFC-normalised and refused only with bidirectional controls (a
    zero-width joiner is part of many scripts and emoji)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field=label)
    line = max_len <= TITLE_MAX if single_line is None else single_line
    cleaned = unicodedata.normalize("NFKC" if line else "NFC", value).strip()
    _check_characters(cleaned, label, single_line=line)
    if required and not cleaned:
        raise InvalidInput(f"{label} is empty; write it in a few words.", field=label)
    if required and len(cleaned) < min_len:
        raise InvalidInput(f"{label} is too short: write at least {min_len} characters.", field=label)
    if len(cleaned) > max_len:
        raise InvalidInput(f"{label} is too long ({len(cleaned):,} characters); keep it under "
                           f"{max_len:,}.", field=label)
    return cleaned


def number(value: Any, label: str, *, minimum: float | None = None, maximum: float | None = None,
           min_exclusive: bool = False) -> float:
    """A finite real number within bounds (NaN and infinity refused)."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput(f"{label} must be a number.", field=label)
    if isinstance(value, str) and len(value.strip()) > 64:
        raise InvalidInput(f"{label} must be a number, not a {len(value):,}-character text.", field=label)
    try:
        result = float(value)
    except OverflowError:
        raise InvalidInput(f"{label} is far too large to be a real value; check the number.",
                           field=label) from None
    except (TypeError, ValueError):
        raise InvalidInput(f"{label} must be a number, not '{value}'.", field=label) from None
    if not math.isfinite(result):
        raise InvalidInput(f"{label} must be a finite number (not NaN or infinity).", field=label)
    if minimum is not None and (result <= minimum if min_exclusive else result < minimum):
        bound = "above" if min_exclusive else "at least"
        raise InvalidInput(f"{label} must be {bound} {minimum:g}; it was {result:g}.", field=label)
    if maximum is not None and result > maximum:
        raise InvalidInput(f"{label} must be at most {maximum:g}; it was {result:g}.", field=label)
    return result


def whole(value: Any, label: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """A whole number within bounds."""
    if isinstance(value, bool):
        raise InvalidInput(f"{label} must be a whole number.", field=label)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidInput(f"{label} must be a whole number, not {value}.", field=label)
        value = int(value)
    if isinstance(value, str):
        stripped = value.strip()
        # ASCII digits only: "²" and "٣" are digits to str.isdigit() but not to a form.
        if not _WHOLE.fullmatch(stripped):
            raise InvalidInput(f"{label} must be a whole number written with the digits 0–9, not "
                               f"'{value[:40]}'.", field=label)
        if len(stripped.lstrip("+-")) > MAX_DIGITS:
            raise InvalidInput(f"{label} is far too large; check the number.", field=label)
        value = int(stripped)
    if not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number.", field=label)
    if abs(value) >= 10 ** MAX_DIGITS:
        raise InvalidInput(f"{label} is far too large; check the number.", field=label)
    if minimum is not None and value < minimum:
        raise InvalidInput(f"{label} must be at least {minimum}; it was {value}.", field=label)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{label} must be at most {maximum}; it was {value}.", field=label)
    return value


def choice(value: Any, enum: type[E], label: str, allowed: dict[str, str] | None = None) -> E:
    """A member of ``enum`` (refuses unknown values, listing the known ones)."""
    try:
        return enum(value)
    except ValueError:
        known = ", ".join(allowed or [m.value for m in enum])
        raise InvalidInput(f"{label} '{value}' is not known; use one of: {known}.",
                           field=label) from None


def one_of(value: Any, options: dict[str, str], label: str) -> str:
    if not isinstance(value, str) or value not in options:
        raise InvalidInput(f"{label} '{value}' is not known; use one of: {', '.join(options)}.",
                           field=label)
    return value


def a_date(value: Any, label: str, *, today: date | None = None, past_years: int | None = None,
           future_years: int | None = None) -> date:
    """A date; with ``today``, also within ``past_years`` before and ``future_years`` after it."""
    found: date | None = None
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    elif isinstance(value, str) and len(value) <= 40:
        with contextlib.suppress(ValueError):
            found = date.fromisoformat(value.strip())
    if found is None:
        shown = value if not isinstance(value, str) else value[:40]
        raise InvalidInput(f"{label} must be a date written YYYY-MM-DD, not '{shown}'.", field=label)
    if today is not None:
        if future_years is not None and found > _years_after(today, future_years):
            raise InvalidInput(f"{label} {found} is more than {future_years} year(s) ahead; give the date "
                               "you really plan.", field=label)
        if past_years is not None and found < _years_after(today, -past_years):
            raise InvalidInput(f"{label} {found} is more than {past_years} year(s) ago; check the year.",
                               field=label)
    return found


def _years_after(day: date, years: int) -> date:
    return day + timedelta(days=round(365.25 * years))


def an_id(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{label} must be the number of an existing record.", field=label)
    return value


def a_list(value: Any, label: str, *, max_items: int = 100_000) -> list[Any]:
    """The items of a list (or tuple or set); refuses None, text, numbers and mappings,
    which are easy to pass by mistake where a list is meant."""
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (list, tuple, set, frozenset)):
        kind = "nothing" if value is None else f"a {type(value).__name__}"
        raise InvalidInput(f"{label} must be a list (give an empty list for none), not {kind}.",
                           field=label)
    if len(value) > max_items:
        raise InvalidInput(f"{label} lists {len(value):,} items; at most {max_items:,} at a time.",
                           field=label)
    return list(value)


EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email(value: Any, label: str = "Email") -> str:
    """An email address, normalised: NFKC, lower case, no invisible characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text, such as name@example.org.", field=label)
    address = unicodedata.normalize("NFKC", value).strip()
    _check_characters(address, label, single_line=True)
    address = address.lower()
    if not address:
        raise InvalidInput(f"{label} is empty; write it as name@example.org.", field=label)
    if len(address) > EMAIL_MAX:
        raise InvalidInput(f"{label} is too long ({len(address):,} characters); keep it under "
                           f"{EMAIL_MAX}.", field=label)
    if not EMAIL.match(address):
        raise InvalidInput(f"'{address}' is not an email address; write it as name@example.org.",
                           field=label)
    return address


def ids(value: Any, label: str) -> list[int]:
    """A list of record ids (each checked like ``an_id``)."""
    return [an_id(v, label) for v in a_list(value, label)]


def strings(value: Iterable[Any] | Any, label: str) -> list[Any]:
    """A list of values for a multiple choice (roles, cited metrics…)."""
    return a_list(value, label)


class Problems:
    """Every problem of a form at once, instead of only the first.

    A use case checks each field through ``check``; a refused field is remembered with
    its message (and the field's name) and the next field is checked too. ``raise_any``
    then refuses with all of them — one ``InvalidInput`` whose ``problems`` maps each
    field to what to do — before anything is written."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}
        self._refusals: dict[str, GovernanceError] = {}

    def check(self, field: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T | None:
        """``fn(*args, **kwargs)``, or None with its refusal remembered under ``field``."""
        try:
            return fn(*args, **kwargs)
        except (InvalidInput, RuleViolation) as exc:
            if field not in self.found:  # the caller names the field as its form does
                self.found[field], self._refusals[field] = str(exc), exc
            return None

    def add(self, field: str, message: str) -> None:
        if field not in self.found:
            self.found[field], self._refusals[field] = message, InvalidInput(message, field=field)

    def raise_any(self) -> None:
        """Refuse with every problem found (nothing has been written yet)."""
        if not self.found:
            return
        if len(self.found) == 1:  # one problem: refused exactly as without this collector
            raise next(iter(self._refusals.values()))
        listed = " ".join(f"{field}: {message}" for field, message in self.found.items())
        rule = next((e.rule for e in self._refusals.values() if e.rule), None)
        raise InvalidInput(f"Nothing was saved; {len(self.found)} things need fixing. {listed}",
                           problems=dict(self.found), rule=rule)
