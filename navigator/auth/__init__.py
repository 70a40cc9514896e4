"""API clients (bearer keys) and console users, and the role checks on both."""
