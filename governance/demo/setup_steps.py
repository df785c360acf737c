"""Scenario set-up: the organisation, its people, staff groups, programmes and panels."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from governance import services as sv
from governance.demo.builder import BuilderBase, email_for
from governance.vocabulary import PanelRole


class SetupSteps(BuilderBase):
    """Day 0: everything that exists before the first problem is drafted."""

    def plan_setup(self) -> None:
        sc = self.sc
        admin = sc["admin"]

        def initialise() -> None:
            self.admin = self.act(sv.initialise_organisation, admin_name=admin["name"],
                                  admin_email=admin.get("email") or email_for(admin["name"], self.domain),
                                  organisation=sc.get("organisation", "Demo organisation"),
                                  country=sc.get("country", ""))
            self.people[admin["key"]] = self.admin
            self.cast.append({"name": admin["name"],
                              "email": admin.get("email") or email_for(admin["name"], self.domain),
                              "roles": ["admin"], "about": admin.get("about", "")})

        self.add(0, "initialise organisation", initialise)
        for spec in sc["people"]:
            self.add(0, f"person {spec['key']}", self._step(self._create_cast, spec))
        for group in sc.get("staff", []):
            self.add(0, f"staff {group['key']}", self._step(self._create_staff, group))
        for spec in sc.get("programmes", []):
            def programme(spec: dict[str, Any] = spec) -> None:
                self.programmes[spec["key"]] = self.act(sv.create_programme, self.admin, name=spec["name"],
                                                        description=spec.get("description", ""))
            self.add(0, f"programme {spec['key']}", programme)
        for spec in sc["panels"]:
            self.panel_members[spec["key"]] = [*spec.get("facilitators", []), *spec.get("members", [])]
            self.add(0, f"panel {spec['key']}", self._step(self._create_panel, spec))

    def _create_cast(self, spec: dict[str, Any]) -> None:
        email = spec.get("email") or email_for(spec["name"], self.domain)
        self.people[spec["key"]] = self.act(sv.create_person, self.admin, name=spec["name"], email=email,
                                            roles=spec["roles"])
        self.cast.append({"name": spec["name"], "email": email, "roles": sorted(spec["roles"]),
                          "about": spec.get("about", "")})

    def _generated_names(self) -> Iterator[str]:
        names = self.sc["generated_names"]
        first, last = names["first"], names["last"]
        taken = {p["name"].lower() for p in self.sc["people"]} | {self.sc["admin"]["name"].lower()}
        i = 0
        while True:
            name = f"{first[i % len(first)]} {last[(i * 7 + (i // len(first)) * 3) % len(last)]}"
            i += 1
            if name.lower() not in taken:
                taken.add(name.lower())
                yield name

    def _create_staff(self, group: dict[str, Any]) -> None:
        if self._names is None:
            self._names = self._generated_names()
        ids = []
        for _ in range(int(group["generate"])):
            name = next(self._names)
            ids.append(self.act(sv.create_person, self.admin, name=name,
                                email=email_for(name, self.domain), roles=group.get("roles", ["frontline"])))
        self.staff[group["key"]] = ids

    def _create_panel(self, spec: dict[str, Any]) -> None:
        programme = self.programmes.get(spec["programme"]) if spec.get("programme") else None
        panel = self.act(sv.create_panel, self.admin, name=spec["name"], area=spec.get("area", ""),
                         site=spec.get("site", ""), programme_id=programme)
        self.panels[spec["key"]] = panel
        for key in spec.get("facilitators", []):
            self.act(sv.add_panel_member, self.admin, panel, self.pid(key), PanelRole.FACILITATOR)
        for key in spec.get("members", []):
            self.act(sv.add_panel_member, self.admin, panel, self.pid(key))

    # ---------------------------------------------------------- problems
