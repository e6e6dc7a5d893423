"""A private Postfix on 127.0.0.1 for the tests (issue 19): submission with SASL
through Dovecot (XOAUTH2, OAUTHBEARER, PLAIN: whatever Dovecot's auth offers),
delivering every message for example.org/.com into one Maildir, the Dovecot
mailbox's. Its own configuration, queue and log in a temporary folder; the
system's Postfix is not touched. Postfix's master runs as root (CI does)."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

POSTFIX = shutil.which("postfix") or ("/usr/sbin/postfix" if Path("/usr/sbin/postfix").exists() else None)
INSTALL = "apt-get install postfix (and dovecot-imapd for its SASL); the test starts its own instance as root"


def need_postfix() -> None:
    why = None
    if POSTFIX is None:
        why = f"Postfix is not installed: {INSTALL}"
    elif os.geteuid() != 0:
        why = f"a private Postfix must be started as root (CI runs as root): {INSTALL}"
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(f"required under CI: {why}")
        pytest.skip(why)


def _postconf(name: str) -> str:
    done = subprocess.run(["postconf", "-dh", name], capture_output=True, text=True)
    return done.stdout.strip()


MASTER = """{port} inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
local unix - n n - - local
virtual unix - n n - - virtual
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
showq unix n - n - - showq
"""


@contextlib.contextmanager
def postfix_server(port: int, auth_port: int, maildir: Path, uid: int, gid: int):
    """Postfix listening for submission on 127.0.0.1:`port`, SASL through Dovecot's auth
    on 127.0.0.1:`auth_port`, delivering into the Maildir `maildir` as uid:gid."""
    need_postfix()
    base = Path(tempfile.mkdtemp(prefix="planner-postfix-"))
    os.chmod(base, 0o755)
    conf, spool, data = base / "conf", base / "spool", base / "data"
    for folder in (conf, spool, data):
        folder.mkdir()
    owner = pwd.getpwnam("postfix")
    os.chown(data, owner.pw_uid, owner.pw_gid)  # Postfix's own data (locks, caches)
    main = {
        "compatibility_level": "3.6", "queue_directory": spool, "data_directory": data,
        "command_directory": _postconf("command_directory"), "daemon_directory": _postconf("daemon_directory"),
        "meta_directory": "/etc/postfix", "shlib_directory": _postconf("shlib_directory"),
        "mail_owner": "postfix", "setgid_group": "postdrop", "inet_interfaces": "127.0.0.1",
        "inet_protocols": "ipv4", "myhostname": "mail.example.org", "mydomain": "example.org",
        "mydestination": "", "relay_domains": "", "alias_maps": "", "alias_database": "",
        "local_recipient_maps": "", "virtual_mailbox_domains": "example.org example.com",
        "virtual_mailbox_base": maildir.parent, "virtual_mailbox_maps": f"static:{maildir.name}/",
        "virtual_uid_maps": f"static:{uid}", "virtual_gid_maps": f"static:{gid}", "virtual_minimum_uid": "1",
        "smtpd_sasl_auth_enable": "yes", "smtpd_sasl_type": "dovecot",
        "smtpd_sasl_path": f"inet:127.0.0.1:{auth_port}", "smtpd_sasl_security_options": "noanonymous",
        "smtpd_tls_security_level": "none", "smtpd_relay_restrictions": "permit_sasl_authenticated, reject",
        "smtpd_recipient_restrictions": "permit_sasl_authenticated, reject", "smtputf8_enable": "no",
        "maillog_file": base / "postfix.log", "maillog_file_prefixes": base, "message_size_limit": "20480000", "biff": "no",
        "smtpd_banner": "$myhostname ESMTP", "smtpd_client_restrictions": "",
        "notify_classes": "", "delay_warning_time": "0",
    }
    (conf / "main.cf").write_text("".join(f"{k} = {v}\n" for k, v in main.items()), encoding="utf-8")
    (conf / "master.cf").write_text(MASTER.format(port=f"127.0.0.1:{port}"), encoding="utf-8")
    command = [POSTFIX, "-c", str(conf)]
    try:
        checked = subprocess.run([*command, "check"], capture_output=True, text=True)
        started = subprocess.run([*command, "start"], capture_output=True, text=True)
        if started.returncode:
            log = (base / "postfix.log").read_text() if (base / "postfix.log").exists() else ""
            pytest.fail(f"Postfix did not start: {checked.stderr}{started.stderr}{log[-3000:]}")
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"220"):
                        break
            if time.monotonic() > deadline:
                log = (base / "postfix.log").read_text() if (base / "postfix.log").exists() else ""
                pytest.fail(f"Postfix did not answer on {port}:\n{log[-3000:]}")
            time.sleep(0.1)
        yield {"host": "127.0.0.1", "port": port, "log": base / "postfix.log"}
    finally:
        subprocess.run([*command, "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def delivered(maildir: Path) -> list[Path]:
    return sorted(p for sub in ("new", "cur") if (maildir / sub).is_dir() for p in (maildir / sub).iterdir())


def wait_delivered(maildir: Path, count: int, seconds: float = 30, log: Path | None = None) -> list[Path]:
    """The Maildir's messages once there are `count` (Postfix delivers after accepting)."""
    deadline = time.monotonic() + seconds
    while len(delivered(maildir)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    found = delivered(maildir)
    if len(found) < count and log is not None and log.exists():
        raise AssertionError(f"{len(found)} of {count} delivered:\n{log.read_text()[-3000:]}")
    return found
