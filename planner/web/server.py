"""Starting the board: `planner serve`."""

from __future__ import annotations

import socket
from pathlib import Path

from planner.errors import PlannerError
from planner.web.security import Users, is_loopback
from planner.web.workspace import Workspace


class RefuseToServe(PlannerError):
    exit_code = 2


def users_file(workspace: str | Path, given: str | Path | None = None) -> Users:
    return Users(Path(given) if given else Workspace(workspace).server_dir / "users.json")


def serve(workspace: str | Path, host: str = "127.0.0.1", port: int = 8765, users: str | Path | None = None,
          workers: int = 1, on_ready=None) -> None:
    import uvicorn

    from planner.web.app import Board

    users_store = users_file(workspace, users)
    remote = not is_loopback(host)
    if remote and not users_store.load():
        raise RefuseToServe(
            f"refusing to listen on {host} without logins: anyone on the network could change the visits. "
            f"Add a user first with: planner serve {workspace} --add-user NAME "
            "(or listen on 127.0.0.1, the default)")
    allowed = ["127.0.0.1", "localhost", "[::1]", host] + (["*"] if host in ("0.0.0.0", "::") else [])
    board = Board(workspace, require_login=remote, users_file=users_store.path, allowed_hosts=allowed,
                  workers=workers)
    # the socket bound here, so that port 0 (any free port) can be told as the port it got
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
    except OSError as exc:
        sock.close()
        raise RefuseToServe(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if on_ready:
        on_ready(board, sock.getsockname()[1])
    config = uvicorn.Config(board.app, host=host, port=sock.getsockname()[1], log_level="warning", workers=1,
                            timeout_graceful_shutdown=3)
    uvicorn.Server(config).run(sockets=[sock])
