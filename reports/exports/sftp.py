"""Upload to an SFTP server (asyncssh), the server's host key always verified.

The target comes from the environment like the S3 and SMTP ones (``SITELEDGER_SFTP_*``, see
:class:`SftpTarget`). The server must be known: its key line (``SITELEDGER_SFTP_HOST_KEY``, as
``ssh-keyscan`` prints it without the host) or a known_hosts file
(``SITELEDGER_SFTP_KNOWN_HOSTS``, default ``~/.ssh/known_hosts``); an unknown or changed key is
refused, and only ``SITELEDGER_SFTP_INSECURE_ANY_HOST_KEY=1`` turns the check off (a test rig,
never production). A file is written under a hidden temporary name in the target folder and
renamed into place (POSIX rename where the server offers it), so a reader on the server never
sees half a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, ClassVar

from siteledger.delivery import DeliveryError, FromEnvironment


@dataclass(frozen=True)
class SftpTarget(FromEnvironment):
    """An SFTP server, a login (password and/or private key) and a base folder."""

    host: str
    port: int = 22
    user: str = ""
    password: str | None = field(default=None, repr=False)
    key_file: str | None = None
    key_passphrase: str | None = field(default=None, repr=False)
    host_key: str | None = None
    known_hosts: str | None = None
    insecure_any_host_key: bool = False
    base_path: str = "."
    timeout: float = 30.0

    ENV_PREFIX: ClassVar[str] = "SITELEDGER_SFTP_"
    ENV_NAMES: ClassVar[dict[str, str]] = {
        "host": "HOST",
        "port": "PORT",
        "user": "USER",
        "password": "PASSWORD",
        "key_file": "KEY_FILE",
        "key_passphrase": "KEY_PASSPHRASE",
        "host_key": "HOST_KEY",
        "known_hosts": "KNOWN_HOSTS",
        "insecure_any_host_key": "INSECURE_ANY_HOST_KEY",
        "base_path": "PATH",
        "timeout": "TIMEOUT",
    }
    ENV_REQUIRED: ClassVar[str] = "host"

    @property
    def secrets(self) -> list[str | None]:
        return [self.password, self.key_passphrase]

    def folder(self, path: str) -> str:
        return str(PurePosixPath(self.base_path) / path)

    def describe(self, path: str) -> str:
        return f"sftp://{self.user}@{self.host}:{self.port}/{self.folder(path).lstrip('/')}"

    def _known_hosts(self) -> Any:
        import asyncssh

        if self.insecure_any_host_key:
            return None
        if self.host_key:
            pattern = self.host if self.port == 22 else f"[{self.host}]:{self.port}"
            return asyncssh.import_known_hosts(f"{pattern} {self.host_key.strip()}\n")
        path = Path(self.known_hosts or Path.home() / ".ssh" / "known_hosts").expanduser()
        if not path.is_file():
            raise DeliveryError(
                f"SFTP host {self.host} cannot be verified: no known_hosts file at {path}; set "
                "SITELEDGER_SFTP_HOST_KEY or SITELEDGER_SFTP_KNOWN_HOSTS",
                permanent=True,
            )
        return str(path)

    def _connect_options(self) -> dict[str, Any]:
        if not self.user:
            raise DeliveryError("SITELEDGER_SFTP_USER is not set", permanent=True)
        return {
            "host": self.host,
            "port": self.port,
            "username": self.user,
            "password": self.password,
            "client_keys": [self.key_file] if self.key_file else None,
            "passphrase": self.key_passphrase,
            "known_hosts": self._known_hosts(),
            "agent_path": None,
            "connect_timeout": self.timeout,
            "login_timeout": self.timeout,
        }

    def run(self, work: Any) -> Any:
        """``await work(sftp)`` on a fresh connection; SSH failures as :class:`DeliveryError`
        (an unverifiable host key or a refused login is permanent: retrying cannot mend it)."""
        import asyncssh

        async def session() -> Any:
            async with (
                asyncssh.connect(**self._connect_options()) as conn,
                conn.start_sftp_client() as sftp,
            ):
                return await work(sftp)

        try:
            return asyncio.run(asyncio.wait_for(session(), self.timeout * 4))
        except asyncssh.HostKeyNotVerifiable as exc:
            raise DeliveryError(
                f"SFTP host key of {self.host}:{self.port} is not trusted: {exc}", permanent=True
            ) from None
        except asyncssh.PermissionDenied as exc:
            raise DeliveryError(
                f"SFTP login refused for {self.user}: {exc}", permanent=True
            ) from None
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            raise DeliveryError(
                f"SFTP {self.host}:{self.port}: {type(exc).__name__}: {exc}"
            ) from None


def upload(target: SftpTarget, path: str, files: Sequence[tuple[str, bytes]]) -> list[str]:
    """Put each (name, bytes) into ``path`` by temporary name and rename; the remote paths."""
    import asyncssh

    folder = target.folder(path)

    async def put(sftp: Any, name: str, data: bytes) -> str:
        final = f"{folder}/{name}"
        temp = f"{folder}/.{name}.{uuid.uuid4().hex[:12]}.part"
        try:
            async with sftp.open(temp, "wb") as handle:
                await handle.write(data)
            size = (await sftp.stat(temp)).size
            if size != len(data):
                raise DeliveryError(f"SFTP {final}: wrote {size} of {len(data)} bytes")
            try:
                await sftp.posix_rename(temp, final)
            except asyncssh.SFTPOpUnsupported:
                # plain SFTP rename refuses to replace a file: remove the old one first
                if await sftp.exists(final):
                    await sftp.remove(final)
                await sftp.rename(temp, final)
        except BaseException:
            # never leave a partial file behind (a dropped connection takes it with it)
            with contextlib.suppress(Exception):
                await sftp.remove(temp)
            raise
        return final

    async def work(sftp: Any) -> list[str]:
        await sftp.makedirs(folder, exist_ok=True)
        return [await put(sftp, name, data) for name, data in files]

    result: list[str] = target.run(work)
    return result


def listing(target: SftpTarget, path: str) -> list[tuple[str, float]]:
    """(name, modification time) of the files in ``path``; empty when it does not exist."""
    folder = target.folder(path)

    async def work(sftp: Any) -> list[tuple[str, float]]:
        if not await sftp.isdir(folder):
            return []
        return [
            (entry.filename, float(entry.attrs.mtime or 0))
            for entry in await sftp.readdir(folder)
            if entry.filename not in (".", "..")
        ]

    result: list[tuple[str, float]] = target.run(work)
    return result


def remove(target: SftpTarget, path: str, names: Sequence[str]) -> None:
    folder = target.folder(path)

    async def work(sftp: Any) -> None:
        for name in names:
            await sftp.remove(f"{folder}/{name}")

    target.run(work)
