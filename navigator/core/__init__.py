"""The kernel: shared concepts every domain package stands on. Imports no domain package."""
