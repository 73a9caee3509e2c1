"""Membership: organisations, their keys and roles, and governance by the stewards' vote."""
