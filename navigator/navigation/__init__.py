"""Navigations: a call's facts routed through the rules and the directory to a recommendation."""
