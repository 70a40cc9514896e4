"""Cross-cutting API pieces: authentication, shared fields, the docs page, health."""
