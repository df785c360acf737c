"""The replica load run's protocol reader (``bench.replicas.protocol``) counts only what a person
would have seen as the page: a finished run with the page's heading and nothing failing in it.

Fed the server's messages (real ``ForwardMsg`` protobufs) over a stand-in connection, it must
refuse an exception element, an error alert, a missing heading, a page not found, a redirect
and a script that did not compile, and wait past a run cut short for a rerun; and what it sends
must be the ``BackMsg`` a browser tab sends (the page's script hash once the server named it).
No server: a load run that miscounted failures as successes would hide them.
"""
from __future__ import annotations

import asyncio
from typing import Any

import pytest
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.protocol import State

from bench.replicas.protocol import ProtocolError, StreamlitTab, widget


class Wire:
    """A connection that answers with the given messages, in order, and keeps what was sent."""

    def __init__(self, messages: list[ForwardMsg]) -> None:
        self.incoming = [m.SerializeToString() for m in messages]
        self.sent: list[BackMsg] = []
        self.state = State.OPEN
        self.transport = None

    async def send(self, data: bytes) -> None:
        msg = BackMsg()
        msg.ParseFromString(data)
        self.sent.append(msg)

    async def recv(self) -> bytes:
        if not self.incoming:
            raise ConnectionError("the server said nothing more")
        return self.incoming.pop(0)

    async def close(self) -> None:
        self.state = State.CLOSED


def start() -> ForwardMsg:
    fm = ForwardMsg()
    fm.new_session.initialize.session_id = "s-1"
    return fm


def heading(body: str) -> ForwardMsg:
    fm = ForwardMsg()
    fm.delta.new_element.heading.body = body
    return fm


def alert(fmt: int, body: str) -> ForwardMsg:
    fm = ForwardMsg()
    fm.delta.new_element.alert.format = fmt  # type: ignore[assignment]
    fm.delta.new_element.alert.body = body
    return fm


def finished(status: int = ForwardMsg.FINISHED_SUCCESSFULLY) -> ForwardMsg:
    fm = ForwardMsg()
    fm.script_finished = status  # type: ignore[assignment]
    return fm


def navigation(**pages: str) -> ForwardMsg:
    fm = ForwardMsg()
    for path, script_hash in pages.items():
        page = fm.navigation.app_pages.add()
        page.url_pathname, page.page_script_hash = path, script_hash
    return fm


def button(label: str, widget_id: str) -> ForwardMsg:
    fm = ForwardMsg()
    fm.delta.new_element.button.label = label
    fm.delta.new_element.button.id = widget_id
    return fm


def tab_on(messages: list[ForwardMsg]) -> tuple[StreamlitTab, Wire]:
    tab = StreamlitTab("http://127.0.0.1:1", "pilot_session=x")
    wire = Wire(messages)
    tab.ws = wire
    return tab, wire


def open_page(messages: list[ForwardMsg], path: str = "audit", heading_: str = "Audit", **kw: Any) -> Any:
    tab, wire = tab_on(messages)
    return asyncio.run(tab.open(path, heading=heading_, **kw)), tab, wire


def test_a_finished_run_with_the_heading_is_the_page() -> None:
    run, tab, wire = open_page([start(), navigation(**{"": "h-home", "audit": "h-audit"}), heading("Audit"),
                                button("Verify the whole record now", "w-verify"),
                                alert(Alert.SUCCESS, "The audit chain verifies: 5 events"), finished()])
    assert run.headings == ["Audit"] and run.buttons == {"Verify the whole record now": "w-verify"}
    assert run.successes() == ["The audit chain verifies: 5 events"] and not run.errors()
    assert tab.pages == {"": "h-home", "audit": "h-audit"} and tab.session_id == "s-1"
    [sent] = wire.sent
    assert sent.WhichOneof("type") == "rerun_script" and sent.rerun_script.page_name == "audit"
    assert sent.rerun_script.context_info.url == "http://127.0.0.1:1/audit"


def test_the_next_act_asks_for_the_page_by_the_script_hash_the_server_named() -> None:
    tab, wire = tab_on([start(), navigation(**{"": "h-home", "audit": "h-audit"}), heading("Home"), finished(),
                        start(), heading("Audit"), finished()])
    asyncio.run(tab.open("", heading="Home"))
    asyncio.run(tab.open("audit", heading="Audit", widgets=[widget("w-tab", string_value="Chain verification"),
                                                              widget("w-verify", trigger=True)]))
    second = wire.sent[1].rerun_script
    assert second.page_script_hash == "h-audit" and second.page_name == "audit"
    states = {w.id: w for w in second.widget_states.widgets}
    assert states["w-tab"].string_value == "Chain verification" and states["w-verify"].trigger_value


def test_a_run_cut_short_for_a_rerun_is_followed_by_the_next_one() -> None:
    run, _, _ = open_page([start(), heading("Sign in"), finished(ForwardMsg.FINISHED_EARLY_FOR_RERUN),
                           start(), heading("Audit"), finished()])
    assert run.headings == ["Audit"]


@pytest.mark.parametrize(("messages", "said"), [
    ([start(), heading("Audit"), alert(Alert.ERROR, "Record altered or broken."), finished()], "Record altered"),
    ([start(), heading("Compare"), finished()], "no heading 'Audit'"),
    ([start(), heading("Audit"), finished(ForwardMsg.FINISHED_WITH_COMPILE_ERROR)], "compile error"),
], ids=["error alert", "another page", "compile error"])
def test_a_failed_run_is_a_protocol_error(messages: list[ForwardMsg], said: str) -> None:
    with pytest.raises(ProtocolError, match=said):
        open_page(messages)


def test_an_exception_element_a_redirect_or_a_page_not_found_is_a_protocol_error() -> None:
    crashed = ForwardMsg()
    crashed.delta.new_element.exception.type = "KeyError"
    crashed.delta.new_element.exception.message = "'person'"
    redirect = ForwardMsg()
    redirect.auth_redirect.url = "/session/end"
    missing = ForwardMsg()
    missing.page_not_found.page_name = "audit"
    with pytest.raises(ProtocolError, match="KeyError: 'person'"):
        open_page([start(), heading("Audit"), crashed, finished()])
    with pytest.raises(ProtocolError, match="redirected to /session/end"):
        open_page([start(), redirect, finished()])
    with pytest.raises(ProtocolError, match="page not found"):
        open_page([start(), missing, finished()])


def test_an_act_cut_off_mid_run_drops_the_connection_so_its_late_messages_cannot_count_for_the_next() -> None:
    tab, wire = tab_on([start(), heading("Audit")])  # then nothing: the replica died, or the act timed out
    with pytest.raises(ConnectionError):
        asyncio.run(tab.open("audit", heading="Audit"))
    assert tab.ws is None and not tab.connected()  # the next act connects again, as the frontend does
    assert len(wire.sent) == 1
