"""Input checks shared by the use cases. Each refusal says what to do."""
from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Any, TypeVar

from governance.errors import InvalidInput

TITLE_MAX = 200
NAME_MAX = 120
TEXT_MAX = 4000
REASON_MIN = 10

E = TypeVar("E", bound=StrEnum)


def text(value: Any, label: str, *, max_len: int = TEXT_MAX, required: bool = True,
         min_len: int = 1) -> str:
    """Trimmed text; refuses non-text, blank (when required) and over-long text."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text.", field=label)
    cleaned = unicodedata.normalize("NFC", value).strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in cleaned):
        raise InvalidInput(f"{label} contains control characters; remove them and try again.",
                           field=label)
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
    try:
        result = float(value)
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
        if not stripped.lstrip("-").isdigit():
            raise InvalidInput(f"{label} must be a whole number, not '{value}'.", field=label)
        value = int(stripped)
    if not isinstance(value, int):
        raise InvalidInput(f"{label} must be a whole number.", field=label)
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


def a_date(value: Any, label: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(f"{label} must be a date written YYYY-MM-DD, not '{value}'.", field=label)


def an_id(value: Any, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(f"{label} must be the number of an existing record.", field=label)
    return value
