"""The routing rules engine: rule sets as validated data, evaluated in order."""
