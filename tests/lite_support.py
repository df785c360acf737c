"""The light path in-process: its routes over a test database, driven by Starlette's TestClient
(real HTTP semantics — cookies, redirects, form posts — without starting a server)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from governance import services as sv
from governance.lite.app import routes
from tests.world import PASSWORD, World

TOKEN = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


def csrf_of(page: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = TOKEN.search(page)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def email_of(world: World, person_id: int) -> str:
    from governance.storage.models import Person

    with world.db.uow().reading() as s:
        person = s.get(Person, person_id)
        assert person is not None
        return person.email


@dataclass
class Lite:
    world: World
    client: TestClient

    def sign_in(self, person_id: int, password: str = PASSWORD) -> None:
        form = self.client.get("/lite/")
        response = self.client.post("/lite/sign-in", data={"email": email_of(self.world, person_id),
                                                           "password": password, "csrf": csrf_of(form.text)})
        assert response.status_code == 200 and response.url.path == "/lite/", response.text

    def post_form(self, path: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
        """GET the page, then POST its form with ``data`` and the page's own token."""
        page = self.client.get(path)
        return self.client.post(path, data={**data, "csrf": csrf_of(page.text)})


@pytest.fixture(name="lite")
def lite_fixture(world: World, monkeypatch: pytest.MonkeyPatch) -> Lite:
    """The light path's routes over ``world``'s database, its people given ``PASSWORD``."""
    # A key in the environment: no key file is written beside a PostgreSQL test database.
    monkeypatch.setenv("GOVERNANCE_SESSION_KEY", "a-test-session-key-that-is-long-enough-0123")
    for person in [*world.members, world.facilitator, world.outsider, world.commissioner]:
        sv.set_password(world.uow, world.admin, person, PASSWORD, temporary=False)
    app = Starlette(routes=routes(lambda: world.db))
    return Lite(world, TestClient(app, base_url="http://testserver", raise_server_exceptions=False))
