"""Every table, imported in one place for Alembic and the migration check."""

from navigator.auth.models import ApiClient, User
from navigator.db import Base
from navigator.directory.models import (
    DirectoryState,
    OpeningSession,
    Organisation,
    Service,
    ServiceCapacity,
    ServiceChange,
    ServiceLocation,
)

__all__ = [
    "ApiClient",
    "Base",
    "DirectoryState",
    "OpeningSession",
    "Organisation",
    "Service",
    "ServiceCapacity",
    "ServiceChange",
    "ServiceLocation",
    "User",
]
