"""Signing in to Microsoft 365 (MSAL) and Google Workspace (google-auth), and
where the tokens are kept.

Tokens live in the user's own configuration folder, never in a visit or plan
folder: ``$XDG_CONFIG_HOME/peer-challenge-planner/`` (``~/.config/...``;
``%APPDATA%`` on Windows). The folder is made readable by its owner only
(0700) and each file 0600; on Windows and macOS the Microsoft cache is
encrypted by the system (msal-extensions: DPAPI, Keychain), and on Linux too
when libsecret is there. Nothing here logs or prints a token; client secrets
are read from the environment and never written.

Microsoft, for a person at a terminal: the device code flow (``planner login
microsoft``); unattended: client credentials (PLANNER_MS_CLIENT_SECRET with
PLANNER_MS_MAILBOX, an application permission scoped by Exchange's RBAC for
Applications). Google: the installed-app flow on a loopback address, or a
service account with domain-wide delegation (PLANNER_GOOGLE_SERVICE_ACCOUNT,
PLANNER_GOOGLE_SUBJECT).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from planner.invitations.services.http import ServiceError, test_setting
from planner.store.fs import atomic_write

APP = "peer-challenge-planner"
MS_SCOPES = ["Mail.Send", "Mail.Read", "Calendars.ReadBasic"]
MS_APP_SCOPES = ["https://graph.microsoft.com/.default"]
GOOGLE_SCOPES = ["https://www.googleapis.com/auth/gmail.send", "https://www.googleapis.com/auth/gmail.readonly",
                 "https://www.googleapis.com/auth/calendar.freebusy"]
# XOAUTH2 over SMTP and IMAP: tokens for Exchange Online's own resource, and Google's mail scope
MS_PROTOCOL_SCOPES = {"smtp": ["https://outlook.office.com/SMTP.Send"],
                      "imap": ["https://outlook.office.com/IMAP.AccessAsUser.All"]}
OUTLOOK_APP_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
MS_SETTINGS, MS_CACHE, GOOGLE_TOKEN = "microsoft.json", "microsoft-tokens.bin", "google-token.json"


def config_dir() -> Path:
    if sys.platform.startswith("win") and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    folder = base / APP
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    with contextlib.suppress(OSError):
        folder.chmod(0o700)
    return folder


def write_private(path: Path, text: str) -> None:
    """`text` into `path`, readable by its owner only, replaced atomically."""
    atomic_write(path, text, mode=0o600)


class _Vault:
    """The Microsoft token cache's storage: encrypted by the system when it can be, else a 0600 file."""

    def __init__(self, path: Path):
        self.path = path
        self.encrypted = None
        if not os.environ.get("PLANNER_TEST_PLAIN_CACHE"):
            with contextlib.suppress(Exception):  # no libsecret, no D-Bus, an unknown system: plain file
                from msal_extensions import build_encrypted_persistence  # type: ignore[import-untyped]

                store = build_encrypted_persistence(str(path))
                store.save(store.load() if path.exists() else "{}")
                self.encrypted = store

    def load(self) -> str:
        if self.encrypted is not None:
            with contextlib.suppress(Exception):
                return self.encrypted.load()
        return self.path.read_text(encoding="utf-8") if self.path.exists() else ""

    def save(self, text: str) -> None:
        if self.encrypted is not None:
            self.encrypted.save(text)
            with contextlib.suppress(OSError):
                self.path.chmod(0o600)
        else:
            write_private(self.path, text)


@dataclass
class MicrosoftSettings:
    client_id: str
    tenant: str = "organizations"
    mailbox: str = ""        # app-only, or a shared mailbox: /users/{mailbox}; else /me
    secret: str = ""         # client credentials (from the environment only)
    username: str = ""       # who signed in (the account MSAL looks up)

    @property
    def authority(self) -> str:
        return f"{test_setting('LOGIN_URL', 'https://login.microsoftonline.com')}/{self.tenant}"

    @classmethod
    def load(cls) -> MicrosoftSettings:
        """From `planner login microsoft` and the environment (PLANNER_MS_*, which win)."""
        path = config_dir() / MS_SETTINGS
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        client_id = os.environ.get("PLANNER_MS_CLIENT_ID") or saved.get("client_id", "")
        if not client_id:
            raise ServiceError("not signed in to Microsoft 365: run 'planner login microsoft --client-id ID' "
                               "(the app registration's client id), or set PLANNER_MS_CLIENT_ID")
        return cls(client_id=client_id, tenant=os.environ.get("PLANNER_MS_TENANT") or saved.get("tenant")
                   or "organizations", mailbox=os.environ.get("PLANNER_MS_MAILBOX") or saved.get("mailbox", ""),
                   secret=os.environ.get("PLANNER_MS_CLIENT_SECRET", ""), username=saved.get("username", ""))

    def save(self) -> None:
        write_private(config_dir() / MS_SETTINGS, json.dumps(
            {"client_id": self.client_id, "tenant": self.tenant, "mailbox": self.mailbox,
             "username": self.username}, indent=1))


class MicrosoftToken:
    """Access tokens for Graph from MSAL's cache; refreshed with the refresh token (delegated)
    or asked for again (client credentials)."""

    def __init__(self, settings: MicrosoftSettings, scopes: list[str] | None = None):
        import msal  # type: ignore[import-untyped]

        self.settings = settings
        self.scopes = scopes or MS_SCOPES
        self.vault = _Vault(config_dir() / MS_CACHE)
        self.cache = msal.SerializableTokenCache()
        with contextlib.suppress(ValueError):
            self.cache.deserialize(self.vault.load() or None)
        with _reaching("Microsoft sign-in"):
            self.app = self._app(msal, settings)
        self._token = ""

    def _app(self, msal, settings: MicrosoftSettings):
        common = dict(authority=settings.authority, token_cache=self.cache, verify=_verify(),
                      instance_discovery=False if os.environ.get("PLANNER_TEST_LOGIN_URL") else None)
        if settings.secret:
            return msal.ConfidentialClientApplication(settings.client_id, client_credential=settings.secret, **common)
        return msal.PublicClientApplication(settings.client_id, **common)

    @property
    def app_only(self) -> bool:
        return bool(self.settings.secret)

    def _keep(self) -> None:
        if self.cache.has_state_changed:
            self.vault.save(self.cache.serialize())
            self.cache.has_state_changed = False

    def _take(self, result: dict | None, what: str) -> str:
        if not result or "access_token" not in result:
            reason = (result or {}).get("error_description") or (result or {}).get("error") or "no token"
            raise ServiceError(f"Microsoft sign-in failed ({what}): {str(reason).splitlines()[0]}; "
                               "run 'planner login microsoft' again")
        self._keep()
        self._token = result["access_token"]
        return self._token

    def access_token(self, force: bool = False) -> str:
        if self._token and not force:
            return self._token
        with _reaching("Microsoft sign-in"):
            return self._acquire(force)

    def _acquire(self, force: bool) -> str:
        if self.app_only:
            if force:  # the service said the token expired: MSAL's cache would hand back the same one
                for old in list(self.cache.search(self.cache.CredentialType.ACCESS_TOKEN)):
                    self.cache.remove_at(old)
            scopes = MS_APP_SCOPES if self.scopes is MS_SCOPES else [OUTLOOK_APP_SCOPE]
            return self._take(self.app.acquire_token_for_client(scopes=scopes), "client credentials")
        accounts = self.app.get_accounts(username=self.settings.username or None)
        if not accounts:
            raise ServiceError("not signed in to Microsoft 365: run 'planner login microsoft'")
        return self._take(self.app.acquire_token_silent_with_error(self.scopes, accounts[0], force_refresh=force),
                          "refresh")

    def refresh(self) -> None:
        self.access_token(force=True)

    def device_login(self, say: Callable[[str], None]) -> str:
        """The device code flow: `say` tells the person where to enter the code; returns who signed in."""
        with _reaching("Microsoft sign-in"):
            flow = self.app.initiate_device_flow(scopes=MS_SCOPES)
            if "user_code" not in flow:
                raise ServiceError(f"Microsoft refused to start the sign-in: {flow.get('error_description')}")
            say(flow["message"])
            result = self.app.acquire_token_by_device_flow(flow)
        self._take(result, "device code")
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username") or claims.get("upn") or "")


@contextlib.contextmanager
def _reaching(what: str):
    """A network failure inside MSAL or google-auth (requests) as a plain error, naming no token."""
    import requests

    try:
        yield
    except requests.exceptions.RequestException as exc:
        raise ServiceError(f"cannot reach {what}: {type(exc).__name__}") from None
    except ValueError as exc:  # MSAL: an authority it cannot use
        raise ServiceError(f"{what}: {str(exc).splitlines()[0][:200]}") from None


def _verify():
    return os.environ.get("PLANNER_TEST_CAFILE") or True


class GoogleToken:
    """google-auth credentials: a signed-in user's (refresh token kept in google-token.json, 0600)
    or a service account's acting for the organiser (domain-wide delegation)."""

    def __init__(self, credentials=None):
        self.credentials = credentials or self._load()

    @staticmethod
    def _load():
        key = os.environ.get("PLANNER_GOOGLE_SERVICE_ACCOUNT")
        if key:
            from google.oauth2 import service_account

            subject = os.environ.get("PLANNER_GOOGLE_SUBJECT")
            if not subject:
                raise ServiceError("PLANNER_GOOGLE_SERVICE_ACCOUNT needs PLANNER_GOOGLE_SUBJECT: the organiser's "
                                   "address the service account acts for")
            try:
                return service_account.Credentials.from_service_account_file(key, scopes=GOOGLE_SCOPES,
                                                                             subject=subject)
            except (OSError, ValueError) as exc:
                raise ServiceError(f"cannot read the service account key {key}: {type(exc).__name__}") from None
        from google.oauth2.credentials import Credentials

        path = config_dir() / GOOGLE_TOKEN
        if not path.exists():
            raise ServiceError("not signed in to Google: run 'planner login google --client-secrets FILE'")
        try:
            credentials = Credentials.from_authorized_user_info(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            raise ServiceError(f"{path} is not a Google token; run 'planner login google' again") from None
        stand_in = os.environ.get("PLANNER_TEST_GOOGLE_URL")  # google-auth always names Google's own endpoint
        return credentials.with_token_uri(f"{stand_in}/token") if stand_in else credentials

    def access_token(self) -> str:
        if not self.credentials.token or not self.credentials.valid:
            self.refresh()
        return self.credentials.token

    def refresh(self) -> None:
        import google.auth.exceptions
        import google.auth.transport.requests
        import requests

        session = requests.Session()
        session.verify = _verify()
        try:
            self.credentials.refresh(google.auth.transport.requests.Request(session))
        except google.auth.exceptions.GoogleAuthError as exc:
            raise ServiceError(f"Google refused to refresh the sign-in ({type(exc).__name__}: "
                               f"{str(exc).splitlines()[0][:160] if str(exc) else ''}); "
                               "run 'planner login google' again") from None
        finally:
            session.close()
        if hasattr(self.credentials, "refresh_token") and not os.environ.get("PLANNER_GOOGLE_SERVICE_ACCOUNT"):
            write_private(config_dir() / GOOGLE_TOKEN, self.credentials.to_json())


def google_login(client_secrets: str, open_browser: bool, say: Callable[[str], None],
                 mail_protocols: bool = False) -> None:
    """google-auth-oauthlib's installed-app flow on a loopback port; the token saved 0600.
    `mail_protocols` adds Google's full mail scope, which SMTP and IMAP with XOAUTH2 need."""
    from google_auth_oauthlib.flow import InstalledAppFlow  # type: ignore[import-untyped]

    scopes = GOOGLE_SCOPES + ([GOOGLE_MAIL_SCOPE] if mail_protocols else [])
    try:
        flow = InstalledAppFlow.from_client_secrets_file(client_secrets, scopes=scopes)
    except (OSError, ValueError) as exc:
        raise ServiceError(f"cannot read the OAuth client file {client_secrets}: {type(exc).__name__}") from None
    credentials = flow.run_local_server(host="127.0.0.1", port=0, open_browser=open_browser,
                                        authorization_prompt_message="Open this address to sign in to Google: {url}",
                                        success_message="Signed in; you may close this window.")
    write_private(config_dir() / GOOGLE_TOKEN, credentials.to_json())
    say("Signed in to Google.")


def mail_protocol_token(provider: str, protocol: str) -> str:
    """An access token for XOAUTH2 over SMTP or IMAP ("smtp" | "imap")."""
    if provider == "microsoft":
        return MicrosoftToken(MicrosoftSettings.load(), MS_PROTOCOL_SCOPES[protocol]).access_token()
    token = GoogleToken()
    scopes = getattr(token.credentials, "scopes", None) or []
    if GOOGLE_MAIL_SCOPE not in scopes and not os.environ.get("PLANNER_GOOGLE_SERVICE_ACCOUNT"):
        raise ServiceError("SMTP and IMAP with Google need the mail scope: run 'planner login google "
                           "--mail-protocols --client-secrets FILE'")
    return token.access_token()


def xoauth2(user: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (Google's and Microsoft's format), before base64."""
    return f"user={user}\x01auth=Bearer {token}\x01\x01"


def logout() -> list[str]:
    """Forget every token and sign-in setting the planner keeps; the names of the files removed."""
    removed = []
    folder = config_dir()
    for name in (MS_CACHE, MS_SETTINGS, GOOGLE_TOKEN):
        path = folder / name
        if path.exists():
            path.unlink()
            removed.append(str(path))
    with contextlib.suppress(Exception):  # the encrypted copy msal-extensions may keep elsewhere
        from msal_extensions import build_encrypted_persistence

        build_encrypted_persistence(str(folder / MS_CACHE)).save("{}")
        (folder / MS_CACHE).unlink(missing_ok=True)
    return removed
