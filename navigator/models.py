"""Every table, imported in one place for Alembic and the migration check."""

from navigator.auth.models import ApiClient, AuthFailure, ConsoleSession, User
from navigator.bars.models import BarsOutboxMessage, BarsReferral, BarsRequest
from navigator.core.db import Base
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
from navigator.patients.models import AuditEvent, Patient, PatientSource
from navigator.referrals.models import Referral, ReferralEvent
from navigator.sms.models import CallbackTask, CareHomeObservation, SmsMessage, SmsReply
from navigator.transitions.models import DtocDay, DtocEpisode, DtocInterval, TransitionEvent

__all__ = [
    "ApiClient",
    "AuditEvent",
    "AuthFailure",
    "BarsOutboxMessage",
    "BarsReferral",
    "BarsRequest",
    "Base",
    "CallbackTask",
    "CareHomeObservation",
    "ConsoleSession",
    "DirectoryState",
    "DtocDay",
    "DtocEpisode",
    "DtocInterval",
    "Navigation",
    "NavigationGap",
    "OpeningSession",
    "Organisation",
    "Patient",
    "PatientSource",
    "Referral",
    "ReferralEvent",
    "Service",
    "ServiceCapacity",
    "ServiceChange",
    "ServiceLocation",
    "SmsMessage",
    "SmsReply",
    "TransitionEvent",
    "User",
]
