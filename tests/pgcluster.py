"""A throwaway PostgreSQL cluster from the OS's packages (initdb + pg_ctl) on a free localhost
port, for the tests and benches: nothing needs a server someone started by hand.

`.ci/run` starts one for the whole run (`python -m tests.pgcluster start DIR` prints its url,
`stop DIR` ends it) and exports the url as SURVEY_BOT_TEST_POSTGRES; without that variable the
test fixture starts its own. Run as root (CI), the server runs as the `postgres` user, as
PostgreSQL insists.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

USER = "survey"
ENV = "SURVEY_BOT_TEST_POSTGRES"


def bindir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, or Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(versions[-1]).parent if versions else None


def _version(path: str) -> int:
    part = Path(path).parent.parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def start(folder: Path) -> str:
    """initdb into `folder` and start the server; returns the url of its `postgres` database.

    Run as root, `folder`'s parent must be open to the `postgres` user (a folder of its own in
    /tmp is: `tempfile.mkdtemp()`, `mktemp -d`)."""
    bins = bindir()
    if bins is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install -y postgresql")
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = _free_port()
    _run(
        _as_server_user(
            [str(bins / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8"]
        ),
    )
    # A throwaway cluster: durability off (the tests' own kill -9 checks are about the bot's
    # commits reaching the server, which these settings do not change), room for many pools.
    options = (
        f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder}"
        " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        " -c max_connections=300 -c shared_buffers=64MB"
    )
    _run(
        _as_server_user(
            [
                str(bins / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ]
        ),
    )
    return f"postgresql://{USER}@127.0.0.1:{port}/postgres"


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {done.stderr.strip()}")


def stop(folder: Path) -> None:
    bins = bindir()
    if bins is None or not (folder / "data").exists():
        return
    with contextlib.suppress(subprocess.CalledProcessError):
        subprocess.run(
            _as_server_user(
                [str(bins / "pg_ctl"), "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"]
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    command, folder = sys.argv[1], Path(sys.argv[2])
    if command == "start":
        print(start(folder))
    elif command == "stop":
        stop(folder)
    else:
        raise SystemExit(f"usage: python -m tests.pgcluster start|stop FOLDER, not {command}")


if __name__ == "__main__":
    main()
