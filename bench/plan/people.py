"""Planning the organisation: people with their roles, programmes, panels and memberships."""
from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate
from typing import Any

from bench import texts
from bench.plan.model import (
    CHARTER_V2,
    DAY,
    DEFAULT_TERMS,
    HOUR,
    MINUTE,
    ROLE_ACCOUNTS,
    PilotP,
    ProblemP,
    Scale,
    uniform,
)


class PeoplePlanner:
    """Who exists, with which roles, on which panels (the first layer of ``Planner``)."""

    def __init__(self, scale: Scale, t_start: int, t_end: int, seed: int) -> None:
        self.scale = scale
        self.t0 = t_start
        self.t_end = t_end
        self.rng = random.Random(seed)
        self.seed = seed
        self.t_charter2 = t_start + (t_end - t_start) // 2
        self.problems: list[ProblemP] = []
        self.pilots: list[PilotP] = []
        self.stats: dict[str, Any] = {}

    def charter_at(self, t: int) -> dict[str, Any]:
        """The charter terms in force at ``t`` (version 2 from half-way)."""
        terms = DEFAULT_TERMS.as_dict()
        if t >= self.t_charter2:
            terms.update(CHARTER_V2)
        return terms

    # ----------------------------------------------------------------- people
    def plan_people(self) -> None:
        """Names, emails and roles; the role blocks are contiguous ids (admins first)."""
        s = self.scale
        n = s.people
        sizes = {"admin": 2, "auditor": max(2, n // 1000), "steering": s.steering,
                 "commissioning": max(8, round(n * 0.07)), "facilitator": 3 * s.panels, "leaver": max(1, n // 200)}
        frontline = n - sum(sizes.values())
        assert frontline > s.panels * 10, "too few people for this many panels"
        blocks = ([("admin",)] * sizes["admin"] + [("auditor",)] * sizes["auditor"]
                  + [("steering",)] * sizes["steering"] + [("commissioning",)] * sizes["commissioning"]
                  + [("facilitator", "frontline")] * sizes["facilitator"] + [("frontline",)] * frontline
                  + [("frontline",)] * sizes["leaver"])
        self._names(blocks)
        ids = list(range(1, n + 1))
        bounds = []
        start = 0
        for size in (sizes["admin"], sizes["auditor"], sizes["steering"], sizes["commissioning"],
                     sizes["facilitator"], frontline, sizes["leaver"]):
            bounds.append(ids[start:start + size])
            start += size
        (self.admins, self.auditors, self.steering, self.commissioning, self.facilitators,
         self.frontline, self.leavers) = bounds
        self.admin = self.admins[0]
        # Well-known accounts: the first person of each kind.
        self.accounts = {"admin": self.admin, "auditor": self.auditors[0], "steering": self.steering[0],
                         "commissioning": self.commissioning[0], "facilitator": self.facilitators[0],
                         "frontline": self.frontline[0]}
        for role, pid in self.accounts.items():
            self.emails[pid] = ROLE_ACCOUNTS[role]
        # Creation times: the initial import on day 0.
        step = max(1, (20 * HOUR) // n)
        self.t_person = [0] + [self.t0 + MINUTE + i * step for i in range(n)]
        self.leaver_times = sorted(self.t0 + uniform(self.rng, 30 * DAY, (s.days - 2) * DAY) for _ in self.leavers)

    def _names(self, blocks: Sequence[tuple[str, ...]]) -> None:
        combos = len(texts.FIRST_NAMES) * len(texts.INITIALS) * len(texts.LAST_NAMES)
        # A nation has more people than one initial can keep apart: a second initial then.
        middle = len(blocks) > combos
        picks = self.rng.sample(range(combos * (len(texts.INITIALS) if middle else 1)), len(blocks))
        self.names = [""]
        self.emails = [""]
        self.roles: list[tuple[str, ...]] = [()]
        nf, ni = len(texts.FIRST_NAMES), len(texts.INITIALS)
        for pid, (roles, pick) in enumerate(zip(blocks, picks, strict=True), start=1):
            first = texts.FIRST_NAMES[pick % nf]
            initial = texts.INITIALS[(pick // nf) % ni]
            last = texts.LAST_NAMES[(pick // (nf * ni)) % len(texts.LAST_NAMES)]
            second = f"{texts.INITIALS[pick // combos]}. " if middle else ""
            self.names.append(f"{first} {initial}. {second}{last}")
            self.emails.append(f"{texts.ascii_slug(first)}.{texts.ascii_slug(last)}.{pid}@bench.example")
            self.roles.append(tuple(sorted(roles)))

    # ----------------------------------------------------------------- panels
    def plan_panels(self) -> None:
        """Programmes and panels; members are three facilitators, the home staff and guests."""
        s = self.scale
        n_prog = min(len(texts.AREAS), max(1, s.panels // 10))
        self.programmes = [f"{texts.AREAS[i]} improvement programme" for i in range(n_prog)]
        self.panel_names: list[str] = []
        self.panel_area: list[str] = []
        self.panel_site: list[str] = []
        self.panel_programme: list[int] = []
        for p in range(s.panels):
            area = texts.AREAS[p % len(texts.AREAS)]
            site = texts.SITES[(p // len(texts.AREAS)) % len(texts.SITES)]
            wave = p // (len(texts.AREAS) * len(texts.SITES))
            self.panel_names.append(f"{site} {area} Panel" + (f" {wave + 1}" if wave else ""))
            self.panel_area.append(area)
            self.panel_site.append(site)
            self.panel_programme.append(1 + p % n_prog)
        self._members()
        step = max(1, (20 * HOUR) // max(1, sum(len(m) for m in self.members)))
        self.t_panels = self.t0 + 21 * HOUR
        self.t_memberships = self.t0 + DAY
        self.membership_step = step

    def _members(self) -> None:
        """People sit on their site panel and often on a cross-site one as a guest."""
        s, rng = self.scale, self.rng
        home: list[list[int]] = [[] for _ in range(s.panels)]
        for i, pid in enumerate(self.frontline):
            home[i % s.panels].append(pid)
        self.members: list[list[int]] = []
        self.facilitators_of: list[list[int]] = []
        for p in range(s.panels):
            facs = self.facilitators[3 * p:3 * p + 3]
            self.facilitators_of.append(facs)
            size = max(len(home[p]) + 3, int(s.panel_size * rng.uniform(0.85, 1.15)))
            guests_needed = size - len(home[p]) - 3
            others = _Joined([home[q] for q in range(s.panels) if q != p]) if s.panels > 1 else _Joined([])
            guests = rng.sample(others, min(len(others), max(0, guests_needed))) if len(others) else []
            self.members.append(sorted(facs + home[p] + guests))
        self.member_sets = [frozenset(m) for m in self.members]


class _Joined(Sequence[int]):
    """Lists read as one, without copying them: ``random.sample`` draws by index, so it
    chooses exactly what it would from the joined list (at nation scale the copy per
    panel was quadratic)."""

    def __init__(self, parts: list[list[int]]) -> None:
        self._parts = [part for part in parts if part]
        self._starts = list(accumulate((len(part) for part in self._parts), initial=0))

    def __len__(self) -> int:
        return self._starts[-1]

    def __getitem__(self, index: int) -> int:  # type: ignore[override]
        if not 0 <= index < len(self):
            raise IndexError(index)
        at = bisect_right(self._starts, index) - 1
        return self._parts[at][index - self._starts[at]]
