"""Need-to-know for navigations (the rule is in `patients/need_to_know.py`)."""

from __future__ import annotations

from navigator.auth.keys import Caller
from navigator.navigation.models import Navigation
from navigator.patients.need_to_know import may_see_call


def may_see_navigation(caller: Caller, navigation: Navigation) -> bool:
    """Navigators and admins: all; an integrator: the calls it routed itself."""
    return may_see_call(caller, navigation.created_by)
