"""``portchain users``: people who sign in to this node with a password (the portal).

A user is a registered signing key of a member organisation whose private half is
kept in the node's keystore, sealed under the user's password (node/keystore.py).
``users add`` creates the key, has the organisation's admin key register it on the
ledger (membership.register_key), and stores it sealed.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from portchain.cli.output import emit
from portchain.kernel.crypto import SigningKey
from portchain.node.home import Home, HomeError
from portchain.node.keystore import Keystore, KeystoreError, check_password

app = typer.Typer(
    help="People who sign in to this node with a password.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

HomeOpt = Annotated[Path, typer.Option("--home", help="The node's home directory.")]


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        _fail("the two passwords differ", 2)
    return first


def add_user(
    home: Home,
    org: str,
    username: str,
    password: str,
    roles: list[str] | None = None,
    admin: bool = False,
) -> dict[str, object]:
    """Create, register and store a user; the outcome of the registration, and the user."""
    from portchain.modules.membership import queries
    from portchain.node.gateway import connect, send

    check_password(password)
    org_admin = home.load_key(org).key
    key = SigningKey.generate()
    with Keystore(home.keystore_path) as keystore:
        if any(user.username == username for user in keystore.users()):
            raise KeystoreError(f"user {username!r} exists", "username")
        with connect(home) as gateway:
            if roles is None:
                from portchain.storage.sqlite import open_reader

                found = queries.organisation(open_reader(home.db_path), org)
                roles = list(found["roles"]) if found else []
            body = {
                "public_key": key.public_key.hex(),
                "roles": roles,
                "label": username,
                "admin": admin,
            }
            outcome = send(gateway, org_admin, "membership.register_key", body)
        if outcome.get("status") != "committed":
            return {"registered": outcome}
        user = keystore.add(username, org, key, password)
    return {"registered": outcome, "user": user.as_dict()}


@app.command("add")
def add(
    home: HomeOpt,
    username: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    org: Annotated[str, typer.Option("--as", help="The organisation whose admin registers it.")],
    roles: Annotated[
        str | None, typer.Option(help="Comma-separated roles (default: all of the org's).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    admin: Annotated[
        bool, typer.Option("--admin", help="An admin key (registers keys, votes...).")
    ] = False,
) -> None:
    """Create USERNAME for ORG: a new key, registered on the ledger, sealed under a password."""
    password = _password(password_stdin)
    try:
        result = add_user(
            Home(home), org, username, password, roles.split(",") if roles else None, admin
        )
    except (HomeError, KeystoreError) as exc:
        _fail(str(exc), 2)
    emit(result)
    if "user" not in result:
        raise typer.Exit(1)


@app.command("list")
def list_users(home: HomeOpt) -> None:
    """The users of this node's keystore (names, organisations, key ids)."""
    with Keystore(Home(home).keystore_path) as keystore:
        emit({"users": [user.as_dict() for user in keystore.users()]})


@app.command("remove")
def remove(
    home: HomeOpt, username: Annotated[str, typer.Argument(help="The user to remove.")]
) -> None:
    """Remove USERNAME's sealed key from this node (revoke the key on the ledger as well:
    ``portchain tx membership.revoke_key``)."""
    with Keystore(Home(home).keystore_path) as keystore:
        if not keystore.remove(username):
            _fail(f"no user {username!r}")
    emit({"removed": username})
