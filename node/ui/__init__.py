"""The web interface of people with an account: coordinators, mediators, members.

Server-rendered pages and plain HTML forms (no JavaScript needed). Every
page calls the same action functions as the CLI, with the logged-in
person as the acting principal; ``auth`` holds sessions and CSRF.
"""

from __future__ import annotations

from aiohttp import web

from node.i18n import register, register_patterns
from node.network import directory_pages
from node.network import reports as network_reports
from node.ui import (
    auth,
    contracts,
    coordinator,
    coordinator_alliances,
    coordinator_hostings,
    coordinator_network,
    coordinator_obligations,
    coordinator_reports,
    coordinator_sel,
    help,
    mediator,
    member,
    polls,
    receipts,
)
from node.ui.messages import FR
from node.ui.refusal_messages import FR_FRAGMENTS, FR_PATTERNS, FR_STATES

register("fr", FR)
register_patterns("fr", FR_PATTERNS, FR_FRAGMENTS, FR_STATES)


def add_routes(app: web.Application) -> None:
    app.router.add_routes(auth.routes)
    app.router.add_routes(member.routes)
    app.router.add_routes(mediator.routes)
    app.router.add_routes(coordinator.routes)
    app.router.add_routes(coordinator_sel.routes)
    app.router.add_routes(coordinator_hostings.routes)
    app.router.add_routes(coordinator_network.routes)
    app.router.add_routes(coordinator_obligations.routes)
    app.router.add_routes(coordinator_reports.routes)
    app.router.add_routes(network_reports.routes)
    app.router.add_routes(coordinator_alliances.routes)
    app.router.add_routes(polls.routes)
    app.router.add_routes(receipts.routes)
    app.router.add_routes(contracts.routes)
    app.router.add_routes(help.routes)
    app.router.add_routes(directory_pages.routes)
