"""A reader that speaks Streamlit's own protocol: what a browser tab sends and receives, without the browser.

A browser tab of the dashboard is, to the server, one WebSocket on ``/_stcore/stream`` carrying
protobuf messages: the tab sends ``BackMsg.rerun_script`` (the page it wants, its widgets'
values) and the server answers with ``ForwardMsg``s (a ``new_session`` when a run starts, the
page's elements as ``delta``s, ``script_finished`` at the end). :class:`StreamlitTab` does the
same over the ``websockets`` client, through nginx like everyone else, carrying the cookies a
browser would carry: nginx's affinity cookie and the product's signed ``pilot_session`` cookie,
which the dashboard reads through ``st.context.cookies`` (``pages.common._session_from_cookie``).
The reader signs in on the light path (``/lite/sign-in`` sets that same cookie), so the server
does every bit of work a browser's page costs it (the script run, the database reads, the
deltas); only the rendering in Chromium is left out, which is the browser's cost, not the
server's.

An interaction is done when the run that it asked for finishes (``FINISHED_SUCCESSFULLY``) with
the page's heading among its elements. It failed — a :class:`ProtocolError`, which the caller
retries once and then counts as an error — on an exception element, an error alert, a page
not found, a redirect (the dashboard sends one only to sign someone in or out), a script that
did not compile, or a closed connection.
"""
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

#: Streamlit's first subprotocol entry (the frontend's ``WebsocketConnection`` sends it, then the
#: XSRF token, then the previous session id to resume).
SUBPROTOCOL = "streamlit"
XSRF_COOKIE = "_streamlit_xsrf"


class ProtocolError(Exception):
    """The run did not give what a person would have seen as the page (the message says what)."""


@dataclass
class Run:
    """The elements of one finished script run, and the ids of its widgets by label."""

    headings: list[str] = field(default_factory=list)
    alerts: list[tuple[int, str]] = field(default_factory=list)     # (Alert.Format, body)
    exceptions: list[str] = field(default_factory=list)
    buttons: dict[str, str] = field(default_factory=dict)           # label -> widget id
    tabs: list[str] = field(default_factory=list)                   # stateful tab containers' ids
    pages: dict[str, str] = field(default_factory=dict)             # navigation: url path -> script hash
    elements: int = 0

    def successes(self) -> list[str]:
        """The bodies of the success alerts (``st.success``)."""
        from streamlit.proto.Alert_pb2 import Alert

        return [body for fmt, body in self.alerts if fmt == Alert.SUCCESS]

    def errors(self) -> list[str]:
        """The bodies of the error alerts (``st.error``) and the exceptions."""
        from streamlit.proto.Alert_pb2 import Alert

        return [body for fmt, body in self.alerts if fmt == Alert.ERROR] + self.exceptions


def cookie_header(jar: Any) -> str:
    """The ``Cookie`` header a browser would send to ``/_stcore/stream``: the cookies for path ``/``
    (the light path's CSRF cookie is scoped to ``/lite/`` and stays behind)."""
    return "; ".join(f"{c.name}={c.value}" for c in jar if (c.path or "/") == "/")


class StreamlitTab:
    """One dashboard tab over Streamlit's WebSocket protocol (see the module docstring)."""

    def __init__(self, base: str, cookies: str, xsrf: str | None = None) -> None:
        self.base = base.rstrip("/")
        self.cookies = cookies
        self.xsrf = xsrf
        self.ws: Any = None
        self.session_id: str | None = None
        self.pages: dict[str, str] = {}
        self.replica: str | None = None
        self.last: Run | None = None

    async def connect(self) -> None:
        """Open the WebSocket (through nginx, with the cookies and the subprotocols the frontend sends)."""
        import websockets

        await self.close()
        parts = urlsplit(self.base)
        url = f"ws://{parts.netloc}/_stcore/stream"
        protocols = [SUBPROTOCOL]
        if self.xsrf:
            protocols.append(self.xsrf)
            if self.session_id:  # the frontend asks to resume its session (a new replica makes a new one)
                protocols.append(self.session_id)
        self.ws = await websockets.connect(
            url, subprotocols=[websockets.Subprotocol(p) for p in protocols],
            additional_headers={"Cookie": self.cookies, "Origin": self.base}, max_size=64 * 2**20,
            open_timeout=30, ping_interval=20, ping_timeout=60, compression=None)
        response = getattr(self.ws, "response", None)
        if response is not None:
            self.replica = response.headers.get("x-replica")

    def connected(self) -> bool:
        """True while the WebSocket is open."""
        from websockets.protocol import State

        return self.ws is not None and self.ws.state is State.OPEN

    def abort(self) -> None:
        """Drop the connection at once (no closing handshake)."""
        ws, self.ws = self.ws, None
        transport = getattr(ws, "transport", None)
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """Close the WebSocket (the tab is closed); nothing if it is not open."""
        if self.ws is not None:
            ws, self.ws = self.ws, None
            with contextlib.suppress(Exception):  # a connection already gone is closed enough
                await asyncio.wait_for(ws.close(), 5)

    async def open(self, url_path: str, *, widgets: list[Any] | None = None, heading: str | None = None) -> Run:
        """Ask for the page at ``url_path`` ("" is the default page) with ``widgets`` (WidgetState
        protos) and wait for its run to finish; the run's elements. ``heading``: the title the page
        must show."""
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if not self.connected():
            # As the frontend does by itself when its connection drops (a replica died while the
            # person was reading): connect again before the next act, through nginx.
            await self.connect()
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_name = url_path
        state.page_script_hash = self.pages.get(url_path, "")
        state.context_info.url = f"{self.base}/{url_path}"
        state.context_info.timezone = "UTC"
        state.context_info.timezone_offset = 0
        state.context_info.locale = "en-GB"
        state.context_info.is_embedded = False
        state.context_info.color_scheme = "light"
        for w in widgets or []:
            state.widget_states.widgets.append(w)
        try:
            await self.ws.send(msg.SerializeToString())
            run = await self._until_finished()
        except BaseException:
            # A failed or timed-out act leaves its run's messages on the wire: drop the connection
            # so that the next act cannot take them for its own (it connects again).
            self.abort()
            raise
        if run.pages:
            self.pages = run.pages
        self.last = run
        problems = run.errors()
        if problems:
            raise ProtocolError(f"/{url_path}: {problems[0][:300]}")
        if heading is not None and heading not in run.headings:
            raise ProtocolError(f"/{url_path}: no heading {heading!r} (saw {run.headings[:3]})")
        return run

    async def _until_finished(self) -> Run:
        """Read ForwardMsgs until a run finishes; a run cut short for a rerun (``st.rerun``) is
        followed by the next one, as in the browser."""
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        run = Run()
        while True:
            data = await self.ws.recv()
            if isinstance(data, str):
                raise ProtocolError("a text frame on Streamlit's stream")
            fm = ForwardMsg()
            fm.ParseFromString(data)
            kind = fm.WhichOneof("type")
            if kind == "new_session":
                run = Run(pages=run.pages)  # a run starts: what it shows replaces the last one's
                if fm.new_session.initialize.session_id:
                    self.session_id = fm.new_session.initialize.session_id
            elif kind == "delta":
                _collect(run, fm.delta)
            elif kind == "navigation":
                run.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
            elif kind == "page_not_found":
                raise ProtocolError(f"page not found: {fm.page_not_found.page_name!r}")
            elif kind == "auth_redirect":
                raise ProtocolError(f"redirected to {fm.auth_redirect.url}")
            elif kind == "session_event" and fm.session_event.WhichOneof("type") == "script_compilation_exception":
                raise ProtocolError(f"the script did not compile: "
                                    f"{fm.session_event.script_compilation_exception.message[:200]}")
            elif kind == "script_finished":
                status = fm.script_finished
                if status == ForwardMsg.FINISHED_SUCCESSFULLY:
                    return run
                if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise ProtocolError("the script finished with a compile error")
                # FINISHED_EARLY_FOR_RERUN: the next run follows (its new_session resets the elements).


def _collect(run: Run, delta: Any) -> None:
    kind = delta.WhichOneof("type")
    if kind == "add_block":
        block = delta.add_block
        if block.WhichOneof("type") == "tab_container" and block.tab_container.id:
            run.tabs.append(block.tab_container.id)
        return
    if kind != "new_element":
        return
    el = delta.new_element
    run.elements += 1
    what = el.WhichOneof("type")
    if what == "heading":
        run.headings.append(el.heading.body)
    elif what == "alert":
        run.alerts.append((el.alert.format, el.alert.body))
    elif what == "exception":
        run.exceptions.append(f"{el.exception.type}: {el.exception.message}")
    elif what == "button":
        run.buttons[el.button.label] = el.button.id


def widget(widget_id: str, *, string_value: str | None = None, trigger: bool = False) -> Any:
    """A WidgetState proto: a tab container's chosen label, or a pressed button."""
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    state = WidgetState(id=widget_id)
    if string_value is not None:
        state.string_value = string_value
    if trigger:
        state.trigger_value = True
    return state
