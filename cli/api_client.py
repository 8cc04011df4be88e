"""How the CLI reaches the running stack: one HTTP API, one credential.

The credential is found in this order: `DDRUN_TOKEN`; the token `ddrun login` saved for this
API URL (in `$XDG_CONFIG_HOME/ddrun/credentials.json`, mode 0600); the first admin's token that
`ddrun dev` wrote into its data folder (`DDRUN_DATA_DIR`, default `.ddrun`), used only for a
loopback API. `--as NAME` names the actor only when the server runs with authentication off
(local development): the server records that as `dev-unauthenticated`.

Every expected failure (unreachable API, refused request, unknown id) is one clear line and a
non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from schemas.settings import Settings

TOKEN_ENV = "DDRUN_TOKEN"  # noqa: S105 - the variable's name
DEV_TOKEN_FILE = "admin.token"  # noqa: S105 - a file name
err_console = Console(stderr=True, soft_wrap=True)  # one line stays one line in logs


def credentials_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ddrun" / "credentials.json"


def _saved() -> dict[str, str]:
    try:
        data = json.loads(credentials_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save_token(api_url: str, token: str) -> Path:
    """Keep `token` for `api_url`, readable by this user only."""
    path = credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    saved = _saved()
    saved[api_url.rstrip("/")] = token
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(saved, out, indent=2)
    tmp.replace(path)
    return path


def forget_token(api_url: str) -> bool:
    saved = _saved()
    if saved.pop(api_url.rstrip("/"), None) is None:
        return False
    path = credentials_file()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(saved, out, indent=2)
    return True


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


def find_token(settings: Settings) -> tuple[str | None, str]:
    """(token, where it came from) for the configured API."""
    env = os.environ.get(TOKEN_ENV, "").strip()
    if env:
        return env, TOKEN_ENV
    api_url = settings.api_url.rstrip("/")
    saved = _saved().get(api_url)
    if saved:
        return saved, str(credentials_file())
    dev_file = settings.data_dir / DEV_TOKEN_FILE
    if _loopback(api_url) and dev_file.is_file():
        try:
            token = dev_file.read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
        if token:
            return token, str(dev_file)
    return None, "none"


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {escape(message)}")
    return typer.Exit(code)


class Api:
    """The running stack's HTTP API, as the person whose credential the CLI found."""

    def __init__(self, settings: Settings | None = None, *, actor: str | None = None) -> None:
        self.settings = settings or Settings()
        self.base = self.settings.api_url.rstrip("/")
        self.token, self.token_source = find_token(self.settings)
        self.actor = actor

    def headers(self) -> dict[str, str]:
        out = {"X-Ddrun-Channel": "cli"}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        if self.actor:
            out["X-Ddrun-As"] = self.actor
        return out

    def call(self, method: str, path: str, *, timeout: float = 60, **kwargs: Any) -> Any:
        """The JSON answer (bytes for any other content); any failure exits with one line
        saying what to do."""
        headers = {**self.headers(), **kwargs.pop("headers", {})}
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            headers.setdefault("Idempotency-Key", uuid.uuid4().hex)
        url = self.base + path
        try:
            response = httpx.request(method, url, headers=headers, timeout=timeout, **kwargs)
        except httpx.HTTPError as err:
            raise fail(
                f"the dd0c/run API is not reachable at {self.base} ({type(err).__name__}). "
                "Is the stack running (`make run`)? Set DDRUN_API_URL if it is elsewhere."
            ) from None
        if response.status_code == 401:
            hint = (
                f"the credential from {self.token_source} was refused (revoked or expired?)"
                if self.token
                else "no credential: run `ddrun login`, or set DDRUN_TOKEN"
            )
            raise fail(f"{self._message(response)} — {hint}", 2)
        if response.status_code == 404:  # an unknown id: not found, rather than refused
            raise fail(self._message(response), 1)
        if response.status_code >= 400:
            raise fail(f"refused ({response.status_code}): {self._message(response)}", 2)
        if not response.content:
            return None
        ctype = response.headers.get("content-type", "")
        return response.json() if ctype.startswith("application/json") else response.content

    def get_or_none(self, path: str, **kwargs: Any) -> Any:
        """A GET whose answer is optional (extra detail for a screen): None on any failure,
        printing nothing, so the main answer is still shown."""
        try:
            response = httpx.get(self.base + path, headers=self.headers(), timeout=30, **kwargs)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    @staticmethod
    def _message(response: httpx.Response) -> str:
        try:
            data = response.json()
        except ValueError:
            return response.text[:500]
        if isinstance(data, dict):
            problems = data.get("problems")
            message = str(data.get("error") or data.get("detail") or data)
            if problems:
                message += ": " + "; ".join(f"{p.get('loc')}: {p.get('msg')}" for p in problems)
            return message
        return str(data)
