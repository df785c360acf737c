"""What pages show: escaping, badges, times and percentages in words, pickers that open a record
by a row click or a deep link, CSV downloads, changes and event payloads in plain words."""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal

import streamlit as st

from governance.rules.times import DEFAULT_ZONE, moment_text, utc_text
from governance.vocabulary import label, percent as percent

log = logging.getLogger(__name__)

# ------------------------------------------------------------- presentation
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~&$:])")

#: Okabe–Ito: a palette people with colour-vision deficiencies can tell apart.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
BadgeColour = Literal["red", "orange", "yellow", "blue", "green", "violet", "gray", "grey", "primary"]
BADGE_COLOURS: dict[str, BadgeColour] = {
    "draft": "gray", "ratified": "green", "reopened": "orange", "retired": "gray",
    "registered": "gray", "ready": "blue", "in_use": "blue", "evaluating": "violet", "decided": "green",
    "adopt": "green", "iterate": "blue", "revisit_problem": "orange", "stop": "red",
    "open": "blue", "closed": "gray", "pass": "green", "fail": "red", "insufficient": "orange",
    "none": "gray", "overdue": "red", "answered": "green", "applied": "green", "rejected": "red",
    "proposed": "orange",
}



def esc(text: Any) -> str:
    """Text a person typed, made literal for markdown (no HTML, no formatting)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text if text is not None else ""))


def badge(value: str | None, text: str | None = None) -> None:
    """A status badge that always carries its text (never colour alone).

    The text may quote what people typed (a claim's flags name the metrics it
    cites), so it is escaped like any user text; st.badge escapes the square
    brackets itself, so those are left to it."""
    literal = esc(text or label(value)).replace("\\[", "[").replace("\\]", "]")
    st.badge(literal, color=BADGE_COLOURS.get(str(value), "gray"))


#: Where ``common.page`` keeps the organisation's time zone for this run of the page.
ZONE_KEY = "_organisation_time_zone"


def time_zone() -> str:
    """The organisation's time zone (the charter's), as this page run read it; UTC before that."""
    try:
        return str(st.session_state.get(ZONE_KEY) or DEFAULT_ZONE)
    except Exception:  # noqa: BLE001 - outside a Streamlit run (a bare import in a test)
        return DEFAULT_ZONE


#: What a table shows where a value is missing (``st.dataframe(placeholder=…)``): the grid's
#: default is the word "None", which means nothing to a person.
NOTHING = "—"


def when(moment: datetime | date | None) -> str:
    """A date or time as a person reads it: in the organisation's zone, with its abbreviation
    (the one formatter pages use; ``governance.rules.times.moment_text``)."""
    return moment_text(moment, time_zone())


def when_utc(moment: datetime | date | None) -> str:
    """A time in UTC, labelled — for the audit log and exports, which keep the record's time."""
    return utc_text(moment)


def pct(value: float | None) -> str:
    """A share as every page writes it (``governance.vocabulary.percent``): 0.4 → "40 %"."""
    return percent(value)


def percent_columns(frame: Any, *names: str,
                    widths: Mapping[str, str | int] | None = None) -> tuple[Any, dict[str, Any]]:
    """``frame`` with its share columns (0–1) shown as whole percentages the way ``pct``
    writes them ("40 %"), still numbers so that a click on the header sorts them; returns the
    scaled copy and the ``column_config`` to pass with it."""
    scaled = frame.copy()
    config: dict[str, Any] = {}
    for name in names:
        if name in scaled.columns:
            scaled[name] = scaled[name].astype("float") * 100
            config[name] = percent_column((widths or {}).get(name))
    return scaled, config


def percent_column(width: str | int | None = None) -> Any:
    """The column of a share scaled by ``percent_columns``: whole percentages, as ``pct`` writes them."""
    return st.column_config.NumberColumn(format="%.0f %%", width=width)  # type: ignore[arg-type]


def pager(key: str, total: int, per_page: int) -> int:
    """A page chooser for long lists; returns the 1-based page."""
    pages = max(1, -(-total // per_page))
    if pages == 1:
        st.caption(f"{total:,} shown")
        return 1
    left, right = st.columns([1, 4])
    number = left.number_input("Page", min_value=1, max_value=pages, value=1, step=1, key=key)
    right.caption(f"{total:,} in all — page {number} of {pages}")
    return int(number)


def selectable(frame: Any, ids: list[int], *, chooser: str, **kwargs: Any) -> None:
    """A table whose rows open their record with one click (single-row selection): the
    clicked row becomes the choice of the ``choose`` box ``chooser`` that follows it, which
    stays as the keyboard's and screen reader's way to the same records."""
    event = st.dataframe(frame, placeholder=NOTHING, hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row", key=f"{chooser}-table", **kwargs)
    rows = list(getattr(getattr(event, "selection", None), "rows", []) or [])
    picked = ids[rows[0]] if rows and rows[0] < len(ids) else None
    last = f"_{chooser}-table-last"
    # Only a new click moves the choice, so the box below can still choose another record.
    if picked is not None and picked != st.session_state.get(last):
        st.session_state[chooser] = picked
    st.session_state[last] = picked


def open_next(chooser: str, record_id: Any) -> None:
    """After creating a record, open it: the ``choose`` box ``chooser`` picks it on the next run."""
    if isinstance(record_id, int):
        st.session_state[f"_open-{chooser}"] = record_id


def choose(label_text: str, options: Mapping[int, str | None], *, key: str,
           placeholder: str = "Choose…", param: str | None = None) -> int | None:
    """A selectbox over records given as id → name; returns the chosen record's id (or None).

    With ``param`` the choice is also the page's deep link (``?param=id``): a link with it
    opens that record, and choosing a record puts it in the address bar to share."""
    if not options:
        return None
    pending = st.session_state.pop(f"_open-{key}", None)
    if pending in options:
        st.session_state[key] = pending
    elif param and key not in st.session_state:
        wanted = st.query_params.get(param, "")
        if wanted.isdigit() and int(wanted) in options:
            st.session_state[key] = int(wanted)
    chosen: int | None = st.selectbox(label_text, list(options), format_func=lambda i: f"#{i} · {options[i]}",
                                      index=None, placeholder=placeholder, key=key)
    if param:
        if chosen is not None:
            st.query_params[param] = str(chosen)
        elif param in st.query_params:
            del st.query_params[param]
    return chosen


def csv_download(label_text: str, records: list[dict[str, Any]], file_name: str, *, key: str) -> None:
    """A CSV download of ``records``: the one way a page offers a CSV. Every cell goes
    through ``governance.csvfiles.to_csv``, which neutralises spreadsheet formulas
    (a cell starting with =, +, -, @, tab or CR gets a leading apostrophe). The grid's
    own CSV export is switched off (``client.disableDataExport``), since it would not."""
    from governance.csvfiles import to_csv

    st.download_button(label_text, to_csv(records), file_name, "text/csv", key=key)


def value_text(value: Any) -> str:
    """One stored value as a person reads it: whole numbers without ".0", labels for
    vocabulary values, times like ``when``, lists joined, nothing as "—"."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{label(k)} {term_text(k, v)}" for k, v in value.items()) or "—"
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z?", text):
        return when_text(text.replace("Z", "+00:00"))
    return label(text) if re.fullmatch(r"[a-z]+(?:_[a-z]+)+", text) else text


#: Terms whose values are shares (0–1): weights, quorums, thresholds — written as percentages.
_SHARE_TERM = re.compile(r"^(?:weight|quorum)_|threshold$")


def term_text(key: str, value: Any) -> str:
    """A stored term's value as a person reads it: a share term ("quorum_frontline") as "50 %"."""
    if _SHARE_TERM.search(str(key)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return pct(value)
    return value_text(value)


def change_text(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """A change of terms in words: ``target 99 → 95`` (one clause per changed term)."""
    before, after = dict(before or {}), dict(after or {})
    clauses = []
    for key in [*before, *[k for k in after if k not in before]]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        name = label(key)
        if key not in before:
            clauses.append(f"{name} {term_text(key, new)}")
        elif key not in after:
            clauses.append(f"{name} {term_text(key, old)} removed")
        else:
            clauses.append(f"{name} {term_text(key, old)} → {term_text(key, new)}")
    return "; ".join(clauses) or "no change"


#: Payload fields that are digests, keys or ids: an auditor reads them in the full payload.
_TECHNICAL = re.compile(r"(sha256|hash|commitment|_id$|^id$|key_id|mac)")


def payload_summary(payload: str) -> str:
    """An audit event's payload (canonical JSON) in words, for the event log's table; the
    full payload stays one click away, in the auditor's detail view."""
    import json

    try:
        data = json.loads(payload)
    except ValueError:
        return payload[:120]
    if not isinstance(data, dict):
        return value_text(data)
    before, after = data.get("before"), data.get("after")
    parts = []
    if isinstance(before, dict) or isinstance(after, dict):
        plain_before = {k: v for k, v in (before or {}).items() if not _TECHNICAL.search(k)}
        plain_after = {k: v for k, v in (after or {}).items() if not _TECHNICAL.search(k)}
        if plain_before or plain_after:
            parts.append(change_text(plain_before, plain_after))
    rest = {k: v for k, v in data.items() if k not in ("before", "after") and not _TECHNICAL.search(k)}
    if rest:
        parts.append(value_text(rest))
    text = "; ".join(p for p in parts if p) or "—"
    return text if len(text) <= 160 else text[:157] + "…"


def when_text(iso: str | None) -> str:
    """A time stored as ISO text (e.g. in a frozen basis), shown like ``when``."""
    if not iso:
        return "—"
    try:
        return when(datetime.fromisoformat(iso))
    except ValueError:
        return iso


def public_url(path: str) -> str:
    """``path`` on this site as a full address, for a link to print, text or email
    (``GOVERNANCE_PUBLIC_URL`` when set — behind a proxy — else the address this page was opened at)."""
    import os
    from urllib.parse import urlsplit

    base = os.environ.get("GOVERNANCE_PUBLIC_URL", "").strip().rstrip("/")
    if not base:
        try:
            parts = urlsplit(st.context.url or "")
            base = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
        except Exception:  # noqa: BLE001 - outside a browser session (AppTest): a relative link
            base = ""
    return base + path
