"""CLI for the accounts people use in the browser: ``coopnet user …``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from node.users import ROLE_HELP


def add_parsers(sub: Any, data: Callable[[argparse.ArgumentParser], None]) -> None:
    user = sub.add_parser(
        "user",
        help="accounts for the web interface: invite, reset, disable, list",
        description="People use the node from their browser with an account. An account is "
        "created with its roles and a one-time link (valid 7 days) where its holder chooses "
        "a password; there is no sign-up. With [mail] in config.toml and an address on the "
        "account (--email), the link is also mailed; without, give it by hand.",
    )
    usub = user.add_subparsers(dest="action", metavar="ACTION", required=True)

    p = usub.add_parser(
        "add",
        help="create an account and print its invitation link",
        description="Create an account and print the one-time link to give its holder.",
    )
    data(p)
    p.add_argument("name", metavar="NAME", help="the login, e.g. awa (lower case)")
    p.add_argument(
        "--role",
        action="append",
        required=True,
        metavar="ROLE",
        help=f"{ROLE_HELP}; repeat for several roles",
    )
    p.add_argument("--display-name", default="", help="the name shown on pages")
    p.add_argument(
        "--email",
        default="",
        metavar="ADDRESS",
        help="where password links are mailed (only when [mail] is configured)",
    )

    p = usub.add_parser(
        "roles",
        help="replace an account's roles (its sessions end)",
        description="Replace every role of an account with the ones given; the person "
        "logs in again and has the new rights at once.",
    )
    data(p)
    p.add_argument("name", metavar="NAME")
    p.add_argument(
        "--role", action="append", required=True, metavar="ROLE", help=f"{ROLE_HELP}; repeat"
    )

    p = usub.add_parser(
        "reset", help="print a new one-time link to choose a password (forgotten password)"
    )
    data(p)
    p.add_argument("name", metavar="NAME")

    p = usub.add_parser(
        "email",
        help="set or remove an account's e-mail address",
        description="Set the address password links are mailed to ([mail] in config.toml); "
        "an empty ADDRESS ('') removes it.",
    )
    data(p)
    p.add_argument("name", metavar="NAME")
    p.add_argument("address", metavar="ADDRESS")

    p = usub.add_parser("disable", help="disable an account and end its sessions")
    data(p)
    p.add_argument("name", metavar="NAME")

    p = usub.add_parser("enable", help="enable a disabled account again")
    data(p)
    p.add_argument("name", metavar="NAME")

    p = usub.add_parser("logout", help="end every session of an account (log out everywhere)")
    data(p)
    p.add_argument("name", metavar="NAME")

    p = usub.add_parser("list", help="list the accounts and their roles")
    data(p)


async def run(args: argparse.Namespace, node: Any) -> int:
    from models.accounts import OPERATOR
    from node import users

    a = args.action
    if a == "add":
        invited = await users.user_add(
            node, OPERATOR, args.name, args.role, args.display_name, args.email
        )
        print(f"account {invited.user.name} created; give its holder this link (valid 7 days):")
        print(invited.link)
        return _mail_outcome(invited)
    if a == "roles":
        user = await users.user_set_roles(node, OPERATOR, args.name, args.role)
        roles = ", ".join(await users.describe_grants(node, user))
        print(f"{user.name} now: {roles} (its sessions ended)")
        return 0
    if a == "reset":
        invited = await users.user_reset(node, OPERATOR, args.name)
        print(f"new link for {invited.user.name} (valid 7 days; earlier links stop working):")
        print(invited.link)
        return _mail_outcome(invited)
    if a == "email":
        user = await users.user_set_email(node, OPERATOR, args.name, args.address)
        print(f"{user.name}: " + (f"links go to {user.email}" if user.email else "no address"))
        return 0
    if a in ("disable", "enable"):
        user = await users.user_disable(node, OPERATOR, args.name, disabled=a == "disable")
        print(f"{user.name} {a}d" + (" (its sessions ended)" if a == "disable" else ""))
        return 0
    if a == "logout":
        n = await users.user_logout_everywhere(node, OPERATOR, args.name)
        print(f"{n} session(s) of {args.name} ended")
        return 0
    if a == "list":
        rows = await users.user_list(node, OPERATOR)
        for u in rows:
            roles = ", ".join(await users.describe_grants(node, u))
            state = (
                "disabled"
                if u.disabled_at
                else "active"
                if u.password_hash
                else "invited (no password yet)"
            )
            print(f"{u.name:20} {state:26} {roles}" + (f"  <{u.email}>" if u.email else ""))
        if not rows:
            print("no accounts yet ('coopnet user add' creates one)")
        return 0
    raise ValueError(a)


def _mail_outcome(invited: Any) -> int:
    """Say whether the link was mailed; a failed mail is exit status 1 (the link stands)."""
    import sys

    if invited.mailed_to:
        print(f"mailed to {invited.mailed_to}")
    if invited.mail_error:
        print(
            f"coopnet: the link was not mailed ({invited.mail_error}); it is valid all the "
            "same: give it by hand, or fix [mail] in config.toml and run 'coopnet user reset'",
            file=sys.stderr,
        )
        return 1
    return 0
