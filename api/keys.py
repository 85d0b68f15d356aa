"""API keys and the request audit log, in the operational state store.

A key is a random 32-byte token shown once when it is created; the store keeps only its
SHA-256. The token carries 256 bits of entropy, so nobody can guess a preimage of the hash by
trying tokens, which is what a slow password KDF (bcrypt, scrypt, Argon2) defends against for
low-entropy passwords. A plain hash lets every request be checked with one indexed lookup and
no per-request KDF cost, and a leaked table still yields no usable token.

Scopes say what a key sees: ``SITE`` is a whole site, ``SITE/FACILITY`` one facility (a node)
of a site, ``*`` every site. A site outside a key's scope is refused (403) and left out of
lists.
"""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import JSON, DateTime, Float, Integer, String, Table, Text, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from siteledger.state.store import Base, StateStore, utcnow

TOKEN_PREFIX = "slk_"  # noqa: S105 (the prefix that marks a siteledger key, not a secret)
TOKEN_BYTES = 32
DEFAULT_RATE_PER_MINUTE = 120
MAX_RATE_PER_MINUTE = 100_000
ALL_SITES = "*"
# site and node ids are site-file identifiers (siteledger.site.identifiers): a letter or digit,
# then letters, digits, '_', '.', '-'; a scope names a site or a site and one of its nodes
_ID = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_SCOPE = re.compile(rf"^{_ID}(/{_ID})?$")
# what the audit keeps of a query string and a path: enough to see what was asked
MAX_AUDIT_TEXT = 2000


class ApiKeyError(ValueError):
    """A key cannot be created or found; the message says which and why."""


class ApiKey(Base):
    """One API key: who it is for, what it may see, how fast it may ask."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    rate_per_minute: Mapped[int] = mapped_column(Integer, default=DEFAULT_RATE_PER_MINUTE)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


class ApiAuditEntry(Base):
    """One request to the data API, answered or refused."""

    __tablename__ = "api_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    key_id: Mapped[str | None] = mapped_column(String(24), index=True, nullable=True)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    query: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[float] = mapped_column(Float)
    client_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)

    def as_dict(self) -> dict[str, Any]:
        return {c.name: getattr(self, c.name) for c in self.__table__.columns}


TABLES = [ApiKey.__table__, ApiAuditEntry.__table__]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


@dataclass(frozen=True)
class Scope:
    """What one key may see: whole sites, and facilities of other sites."""

    sites: frozenset[str]
    facilities: frozenset[tuple[str, str]]
    everything: bool = False

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Scope:
        sites: set[str] = set()
        facilities: set[tuple[str, str]] = set()
        everything = False
        for entry in entries:
            if entry == ALL_SITES:
                everything = True
            elif "/" in entry:
                site, _, node = entry.partition("/")
                facilities.add((site, node))
            else:
                sites.add(entry)
        return cls(frozenset(sites), frozenset(facilities), everything)

    def covers_site(self, site_id: str) -> bool:
        """The whole site: its balances, scores, reports and alerts."""
        return self.everything or site_id in self.sites

    def touches_site(self, site_id: str) -> bool:
        """The site or at least one of its facilities: it shows in lists."""
        return self.covers_site(site_id) or any(s == site_id for s, _ in self.facilities)

    def covers_facility(self, site_id: str, node_id: str) -> bool:
        return self.covers_site(site_id) or (site_id, node_id) in self.facilities

    def listed_sites(self) -> builtins.list[str] | None:
        """The sites a list may show; None for every site."""
        if self.everything:
            return None
        return sorted(self.sites | {s for s, _ in self.facilities})


@dataclass(frozen=True)
class Principal:
    """The key a request authenticated with."""

    key_id: str
    name: str
    scope: Scope
    rate_per_minute: int


def check_scopes(scopes: Sequence[str]) -> list[str]:
    if not scopes:
        raise ApiKeyError("a key needs at least one scope: --site SITE, SITE/FACILITY or '*'")
    bad = [s for s in scopes if s != ALL_SITES and not _SCOPE.match(s)]
    if bad:
        raise ApiKeyError(
            f"scope {bad[0]!r} is not SITE, SITE/FACILITY or '*' (ids of letters, digits, _.-)"
        )
    return sorted(set(scopes))


class KeyStore:
    """Create, list, revoke and check API keys; read the audit log."""

    def __init__(self, store: StateStore):
        self.store = store
        Base.metadata.create_all(store.engine, tables=cast("list[Table]", TABLES))

    def create(
        self, name: str, scopes: Sequence[str], rate_per_minute: int = DEFAULT_RATE_PER_MINUTE
    ) -> tuple[ApiKey, str]:
        """A new key and its token (the only time the token exists outside its holder)."""
        if not name.strip() or len(name) > 128:
            raise ApiKeyError("a key's name is 1 to 128 characters")
        if not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
            raise ApiKeyError(f"the rate limit is 1 to {MAX_RATE_PER_MINUTE} requests a minute")
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        key = ApiKey(
            key_id="key_" + secrets.token_hex(6),
            name=name.strip(),
            token_sha256=token_hash(token),
            scopes=check_scopes(scopes),
            rate_per_minute=rate_per_minute,
            created_at=utcnow(),
        )
        with self.store.session() as s:
            s.add(key)
        return key, token

    def list(self, include_revoked: bool = True) -> builtins.list[ApiKey]:
        with self.store.session() as s:
            query = select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)
            if not include_revoked:
                query = query.where(ApiKey.revoked_at.is_(None))
            return builtins.list(s.scalars(query))

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key at once: its next request is refused (403)."""
        with self.store.session() as s:
            key = s.get(ApiKey, key_id)
            if key is None:
                raise ApiKeyError(f"no API key {key_id!r} (see: siteledger api keys list)")
            if key.revoked_at is None:
                key.revoked_at = utcnow()
            return key

    def lookup(self, token: str) -> ApiKey | None:
        """The key whose token this is, revoked or not; None for an unknown token."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 128:
            return None
        with self.store.session() as s:
            return s.scalars(select(ApiKey).where(ApiKey.token_sha256 == token_hash(token))).first()

    def write_audit(self, entries: Sequence[dict[str, Any]]) -> None:
        if not entries:
            return
        with self.store.session() as s:
            s.execute(insert(ApiAuditEntry), builtins.list(entries))

    def audit(self, key_id: str | None = None, limit: int = 100) -> builtins.list[ApiAuditEntry]:
        """The newest audit entries first."""
        with self.store.session() as s:
            query = select(ApiAuditEntry).order_by(ApiAuditEntry.id.desc()).limit(limit)
            if key_id:
                query = query.where(ApiAuditEntry.key_id == key_id)
            return builtins.list(s.scalars(query))


def principal(key: ApiKey) -> Principal:
    return Principal(key.key_id, key.name, Scope.parse(key.scopes), key.rate_per_minute)
