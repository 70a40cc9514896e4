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
from navigator.navigation.models import Navigation, NavigationGap

__all__ = [
    "ApiClient",
    "Base",
    "DirectoryState",
    "Navigation",
    "NavigationGap",
    "OpeningSession",
    "Organisation",
    "Service",
    "ServiceCapacity",
    "ServiceChange",
    "ServiceLocation",
    "User",
]
