"""Referrals: the handoff from a recommendation to a receiving service, tracked to an outcome."""
