"""CISP dashboard measures per place and month, computed from the logged events."""
