"""The light path's HTML: one small page shell and a few form pieces.

Plain server-rendered HTML with no script at all: it works without JavaScript,
on a 320 px screen (one column, nothing wider than the screen), and for a
screen reader (``lang``, one ``h1`` per page, every field with its ``label``,
radio groups in a ``fieldset`` with a ``legend``, messages in ``role=alert``
or ``role=status``). Everything a page needs is inline, so a page is one
request of a few kilobytes.

Every piece of text that comes from the database or the request goes through
``esc``.
"""
from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from datetime import date, datetime

from governance.rules.times import DEFAULT_ZONE, moment_text

#: The whole style sheet (inline: no second request on a slow link).
STYLE = ("body{font:1rem/1.5 system-ui,sans-serif;max-width:40rem;margin:0 auto;padding:.5rem;color:#111}"
         "input,select,textarea,button{font:inherit;max-width:100%}"
         "textarea,select,input[type=email],input[type=password],input[type=text]{width:100%;box-sizing:border-box}"
         "fieldset{border:1px solid #888;margin:.75rem 0;padding:.5rem}legend{font-weight:bold}"
         "label{display:block;margin:.25rem 0}button{padding:.6rem 1rem;margin:.5rem 0}"
         ".alert{border-left:4px solid #b00;padding:.5rem;background:#fee}"
         ".ok{border-left:4px solid #070;padding:.5rem;background:#efe}"
         "li{margin:.5rem 0}a{color:#035}.muted{color:#555}header,footer{margin:.5rem 0}"
         ".scale{display:flex;flex-wrap:wrap;gap:.25rem 1rem}.scale label{display:inline-block}")


def esc(value: object) -> str:
    """Text made safe to place in HTML (element content or a quoted attribute)."""
    return html.escape("" if value is None else str(value), quote=True)


#: The organisation's time zone for the request being answered (set by ``lite.app``).
ZONE: ContextVar[str] = ContextVar("organisation_time_zone", default=DEFAULT_ZONE)


def when(moment: datetime | date | None) -> str:
    """A date or time as the dashboard writes it: in the organisation's zone, with its abbreviation."""
    return moment_text(moment, ZONE.get(), sep=", ")


def page(title: str, body: str, *, signed_in_as: str | None = None, sign_out_token: str | None = None) -> str:
    """A whole page: the shell, ``title`` as its only ``h1``, and ``body``."""
    who = ""
    if signed_in_as is not None and sign_out_token is not None:
        who = (f'<p>Signed in as {esc(signed_in_as)}.</p>'
               f'<form method="post" action="/lite/sign-out">{hidden("csrf", sign_out_token)}'
               '<button type="submit">Sign out</button></form>')
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            # An empty icon: otherwise the browser spends a round trip asking for /favicon.ico.
            '<link rel="icon" href="data:,">'
            f"<title>{esc(title)} — Pilot Evaluation Governance</title><style>{STYLE}</style></head><body>"
            '<header><a href="/lite/">Pilot Evaluation Governance (light)</a></header>'
            f"<main><h1>{esc(title)}</h1>{body}</main>"
            f'<footer>{who}<p class="muted"><a href="/">The full dashboard</a> (needs a faster connection)'
            "</p></footer></body></html>")


def hidden(name: str, value: str) -> str:
    """A hidden form field."""
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


def alert(message: str) -> str:
    """A refusal or error, announced by screen readers."""
    return f'<p class="alert" role="alert">{esc(message)}</p>'


def status(message: str) -> str:
    """A success message, announced politely."""
    return f'<p class="ok" role="status">{esc(message)}</p>'


def radios(name: str, legend: str, options: Sequence[tuple[str, str]], chosen: str | None = None, *,
           css: str = "", required: bool = False) -> str:
    """A radio group: (value, label text) pairs in a fieldset with its legend."""
    items = "".join(
        f'<label><input type="radio" name="{esc(name)}" value="{esc(value)}"'
        f'{" checked" if value == chosen else ""}{" required" if required else ""}> {esc(text)}</label>'
        for value, text in options)
    cls = f' class="{css}"' if css else ""
    return f"<fieldset><legend>{esc(legend)}</legend><div{cls}>{items}</div></fieldset>"


def select(name: str, label_text: str, options: Iterable[tuple[str, str]], chosen: str | None = None) -> str:
    """A labelled drop-down of (value, text) pairs."""
    ident = f"f-{name}"
    items = "".join(f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(t)}</option>'
                    for v, t in options)
    return f'<label for="{ident}">{esc(label_text)}</label><select id="{ident}" name="{esc(name)}">{items}</select>'


def textarea(name: str, label_text: str, value: str = "", *, rows: int = 3) -> str:
    """A labelled text area."""
    ident = f"f-{name}"
    return (f'<label for="{ident}">{esc(label_text)}</label>'
            f'<textarea id="{ident}" name="{esc(name)}" rows="{rows}">{esc(value)}</textarea>')


def field(name: str, label_text: str, kind: str, *, value: str = "", autocomplete: str = "") -> str:
    """A labelled input of type ``kind`` (email, password, text)."""
    ident = f"f-{name}"
    auto = f' autocomplete="{esc(autocomplete)}"' if autocomplete else ""
    return (f'<label for="{ident}">{esc(label_text)}</label>'
            f'<input id="{ident}" type="{esc(kind)}" name="{esc(name)}" value="{esc(value)}"{auto}>')


def form(action: str, token: str, inner: str, button: str) -> str:
    """A POST form with its CSRF token and one submit button."""
    return (f'<form method="post" action="{esc(action)}">{hidden("csrf", token)}{inner}'
            f'<button type="submit">{esc(button)}</button></form>')
