"""Starting the board: `planner serve`."""

from __future__ import annotations

from pathlib import Path

from ..errors import PlannerError
from .security import Users, is_loopback
from .workspace import Workspace


class RefuseToServe(PlannerError):
    exit_code = 2


def users_file(workspace: str | Path, given: str | Path | None = None) -> Users:
    return Users(Path(given) if given else Workspace(workspace).server_dir / "users.json")


def serve(workspace: str | Path, host: str = "127.0.0.1", port: int = 8765, users: str | Path | None = None,
          workers: int = 1, on_ready=None) -> None:
    import uvicorn

    from .app import Board

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
    if on_ready:
        on_ready(board)
    uvicorn.run(board.app, host=host, port=port, log_level="warning", workers=1, timeout_graceful_shutdown=3)
