"""The coordinator's menu: groups, then the pages of the group one is in."""

from __future__ import annotations

from node.ui.nav import ADMIN_NAV, current_group, is_here


def test_a_page_belongs_to_the_group_that_lists_it_or_a_parent_of_it() -> None:
    assert current_group("/admin").label == "Section"
    assert current_group("/admin/receipts/42").label == "Charter"
    assert current_group("/me/mediator/lome/offers").label == "Exchanges"
    assert current_group("/admin/nowhere").label == "Section"
    assert is_here("/admin/sel/accounts", "/admin/sel")
    assert not is_here("/admin/sel", "/admin")
    assert not is_here("/admin/selx", "/admin/sel")


def test_every_page_is_listed_once_and_a_group_fits_two_phone_lines() -> None:
    paths = [path for group in ADMIN_NAV for path, _ in group.pages]
    assert len(paths) == len(set(paths))
    assert all(len(group.pages) <= 7 for group in ADMIN_NAV)
