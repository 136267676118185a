"""The coordinator's menu, in groups.

Twenty pages in one row took six lines on a phone and were read as a wall.
The menu shows the groups, then the pages of the group the coordinator is
in: two short rows wherever they are. A group's link leads to its first page.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NavGroup:
    label: str
    pages: tuple[tuple[str, str], ...]

    @property
    def first(self) -> str:
        return self.pages[0][0]


ADMIN_NAV: tuple[NavGroup, ...] = (
    NavGroup(
        "Section",
        (
            ("/admin", "Overview"),
            ("/admin/users", "Accounts"),
            ("/admin/mediators", "Mediators"),
            ("/admin/bulletins", "Bulletins"),
            ("/admin/polls", "Polls"),
            ("/admin/settings", "Settings"),
        ),
    ),
    NavGroup(
        "Charter",
        (
            ("/admin/contracts", "Contracts"),
            ("/admin/receipts", "Receipts"),
            ("/admin/hostings", "Hostings"),
            ("/admin/certifications", "Certifications"),
            ("/admin/obligations", "Obligations"),
        ),
    ),
    NavGroup("Exchanges", (("/admin/sel", "SEL"), ("/me/mediator", "Offers and replies"))),
    NavGroup(
        "Network",
        (
            ("/admin/network", "Network"),
            ("/admin/federation", "Follows"),
            ("/admin/reports", "Reports"),
            ("/admin/dashboard", "Dashboard"),
            ("/admin/help", "Club Aide"),
            ("/admin/deliveries", "Deliveries"),
        ),
    ),
)


#: Pages only a seat has (the network dashboard reads the sections' reports).
SEAT_ONLY = frozenset({"/admin/dashboard"})


def pages_for(group: NavGroup, role: str) -> list[tuple[str, str]]:
    return [(p, label) for p, label in group.pages if role == "seat" or p not in SEAT_ONLY]


def is_here(here: str, path: str) -> bool:
    return here == path or (path != "/admin" and here.startswith(path + "/"))


def current_group(here: str) -> NavGroup:
    """The group holding the page at ``here`` (the first group if none does)."""
    for group in ADMIN_NAV:
        if any(is_here(here, path) for path, _ in group.pages):
            return group
    return ADMIN_NAV[0]
