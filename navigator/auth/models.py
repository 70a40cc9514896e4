from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from navigator.core.db import Base, UTCDateTime, utcnow

API_ROLES = ("integrator", "navigator", "provider", "admin")
USER_ROLES = ("navigator", "supervisor", "admin")


class ApiClient(Base):
    """A system or person calling the API. Only a hash of the key is stored."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation_ods: Mapped[str | None] = mapped_column(String(20))
    key_prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class User(Base):
    """A console user (care navigator, supervisor, admin); the password is argon2-hashed."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsoleSession(Base):
    """One signed-in console session, held on the server so that it can be ended.

    The cookie carries a random token; only its SHA-256 is stored (`id`), like API keys. A
    session is usable while `ended_at` is empty and it has been seen within the idle limit;
    sign-out, a password change and an admin's unlock or reset end it (`ended_reason`).
    Held in the database, so every web node sees the same sessions.
    """

    __tablename__ = "console_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_reason: Mapped[str | None] = mapped_column(String(30))


class AuthFailure(Base):
    """One failed authentication (a bad API key, a wrong console password) from a source
    address. Counted over a sliding window to throttle that source; kept in the database so
    the limit holds across gunicorn workers and nodes. Old rows are pruned as new ones land.
    """

    __tablename__ = "auth_failures"
    __table_args__ = (Index("ix_auth_failures_source_kind_at", "source", "kind", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(64))  # the client's address
    kind: Mapped[str] = mapped_column(String(20))  # api_key | console
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
