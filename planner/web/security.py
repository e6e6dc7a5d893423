"""Logins, CSRF tokens, security headers and safe unpacking of uploads."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import stat
import threading
import time
import zipfile
from pathlib import Path, PurePosixPath

from planner.store.fs import atomic_write, create_new

MAX_UPLOAD_BYTES = 10 * 1024 * 1024        # an upload (workbook or zip) at most 10 MB
MAX_UNPACKED_BYTES = 50 * 1024 * 1024      # a zip's files together at most 50 MB unpacked
MAX_ZIP_MEMBERS = 200
MAX_RATIO = 200                            # a member unpacking to more than 200 times its packed size is a bomb

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

SECURITY_HEADERS = [("content-security-policy", CSP), ("x-content-type-options", "nosniff"),
                    ("referrer-policy", "same-origin"), ("x-frame-options", "DENY"), ("cache-control", "no-store")]


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --- users --------------------------------------------------------------------------

def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=2 ** 14, r=8, p=1, dklen=32)
    return f"scrypt$16384$8$1${salt.hex()}${digest.hex()}"


_DUMMY: list[str] = []


def dummy_hash() -> str:
    """A hash no password is checked against for real: an unknown name costs
    one scrypt, the same as a known one (made once per server)."""
    if not _DUMMY:
        _DUMMY.append(hash_password(secrets.token_urlsafe(16)))
    return _DUMMY[0]


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(bytes.fromhex(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


class Users:
    """A users file: JSON {name: scrypt hash}, readable by its owner only."""

    def __init__(self, path: Path):
        self.path = Path(path)
        dummy_hash()  # made now, so no sign-in pays for it

    def load(self) -> dict[str, str]:
        if not self.path.is_file():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def add(self, name: str, password: str) -> None:
        users = self.load()
        users[name] = hash_password(password)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(users, indent=2, sort_keys=True), mode=0o600)

    def verify(self, name: str, password: str) -> bool:
        stored = self.load().get(name)
        if stored is None:
            check_password(password, dummy_hash())  # one scrypt, as for a known name
            return False
        return check_password(password, stored)


# --- throttling sign-ins --------------------------------------------------------------

FREE_FAILURES = 5          # failures allowed before a wait is imposed
FIRST_WAIT = 60.0          # seconds of the first wait, doubled at every further failure
LONGEST_WAIT = 15 * 60.0
FORGET_AFTER = 3600.0      # a key with no failure for an hour starts afresh


class Throttle:
    """Failed sign-ins counted per user name and per client address; after
    FREE_FAILURES failures a key must wait 1, 2, 4 … (at most 15) minutes."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.failures: dict[str, tuple[int, float]] = {}  # key: (count, time of the last failure)
        self.lock = threading.Lock()

    @staticmethod
    def keys(name: str, address: str) -> list[str]:
        return ["user:" + name.casefold()[:200], "addr:" + address]

    def wait(self, keys: list[str]) -> float:
        """Seconds left before these keys may try again (0: now)."""
        now, longest = self.clock(), 0.0
        with self.lock:
            for key in keys:
                count, last = self.failures.get(key, (0, 0.0))
                if now - last > FORGET_AFTER:
                    self.failures.pop(key, None)
                    continue
                if count >= FREE_FAILURES:
                    delay = min(LONGEST_WAIT, FIRST_WAIT * 2 ** (count - FREE_FAILURES))
                    longest = max(longest, last + delay - now)
        return max(0.0, longest)

    def failed(self, keys: list[str]) -> None:
        now = self.clock()
        with self.lock:
            if len(self.failures) > 100_000:  # a flood of names: keep the newest
                for key, _ in sorted(self.failures.items(), key=lambda kv: kv[1][1])[:50_000]:
                    del self.failures[key]
            for key in keys:
                count, last = self.failures.get(key, (0, 0.0))
                self.failures[key] = (count + 1 if now - last <= FORGET_AFTER else 1, now)

    def succeeded(self, keys: list[str]) -> None:
        with self.lock:
            self.failures.pop(keys[0], None)  # the user's count; the address keeps its own


# --- server-side sessions ---------------------------------------------------------------

SESSION_SECONDS = 12 * 3600


class Sessions:
    """The sessions signed in, kept on the server (a file of their ids'
    SHA-256, so the file itself lets no one in): the signed cookie carries an
    id, valid only while listed here; signing out ends every session of that
    user, so a cookie copied before cannot be used after."""

    def __init__(self, path: Path, clock=time.time):
        self.path, self.clock = Path(path), clock
        self.lock = threading.Lock()

    @staticmethod
    def _key(sid: str) -> str:
        return hashlib.sha256(sid.encode("utf-8")).hexdigest()

    def _load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        now = self.clock()
        return {k: v for k, v in data.items() if isinstance(v, dict) and v.get("expires", 0) > now} \
            if isinstance(data, dict) else {}

    def _save(self, data: dict[str, dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, json.dumps(data, sort_keys=True), mode=0o600)

    def start(self, user: str) -> str:
        sid = secrets.token_urlsafe(32)
        with self.lock:
            data = self._load()
            data[self._key(sid)] = {"user": user, "expires": self.clock() + SESSION_SECONDS}
            self._save(data)
        return sid

    def user_of(self, sid: object) -> str | None:
        if not isinstance(sid, str) or not sid:
            return None
        entry = self._load().get(self._key(sid))
        return str(entry["user"]) if entry else None

    def end_all(self, user: str) -> int:
        with self.lock:
            data = self._load()
            kept = {k: v for k, v in data.items() if v.get("user") != user}
            self._save(kept)
        return len(data) - len(kept)


def secret_key(folder: Path) -> str:
    path = folder / "secret"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    if not create_new(path, key, mode=0o600):  # another server made it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    return key


def csrf_token(session: dict) -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: dict, given: str | None) -> bool:
    expected = session.get("csrf")
    return bool(expected and given and hmac.compare_digest(str(expected), str(given)))


# --- unpacking a zipped visit folder ------------------------------------------------------

class UnsafeUpload(ValueError):
    pass


def unpack_zip(data: bytes, target: Path) -> Path:
    """Unpack a zipped visit folder into `target`, refusing links, paths that
    leave the folder, too many files and zip bombs; returns the folder that
    holds visit.toml."""
    import io

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnsafeUpload("the file is not a zip archive") from None
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnsafeUpload(f"the zip holds {len(members)} entries; a visit folder needs far fewer "
                           f"(at most {MAX_ZIP_MEMBERS})")
    total = 0
    for info in members:
        name = info.filename
        path = PurePosixPath(name)
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise UnsafeUpload(f"the zip holds a symbolic link ({name}); links are refused")
        if name.startswith("/") or "\\" in name or ".." in path.parts or (path.parts and ":" in path.parts[0]):
            raise UnsafeUpload(f"the zip holds a path outside its folder ({name}); refused")
        total += info.file_size
        if total > MAX_UNPACKED_BYTES:
            raise UnsafeUpload(f"the zip unpacks to more than {MAX_UNPACKED_BYTES // 2 ** 20} MB; refused")
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO and info.file_size > 2 ** 20:
            raise UnsafeUpload(f"{name} is compressed more than {MAX_RATIO} times (a zip bomb?); refused")
    root = target.resolve()
    for info in members:
        if info.is_dir():
            continue
        destination = (target / info.filename).resolve()
        if root not in destination.parents:
            raise UnsafeUpload(f"the zip holds a path outside its folder ({info.filename}); refused")
        destination.parent.mkdir(parents=True, exist_ok=True)
        written = 0
        with archive.open(info) as source, destination.open("wb") as out:
            while chunk := source.read(65536):
                written += len(chunk)
                if written > info.file_size or written > MAX_UNPACKED_BYTES:
                    raise UnsafeUpload(f"{info.filename} unpacks to more than it declares (a zip bomb?); refused")
                out.write(chunk)
    candidates = sorted({p.parent for p in target.rglob("visit.toml")}, key=lambda p: len(p.parts))
    if not candidates:
        raise UnsafeUpload("the zip holds no visit.toml: zip the visit folder (visit.toml and its CSV files)")
    return candidates[0]
