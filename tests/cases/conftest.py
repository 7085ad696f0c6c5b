"""Fixtures for the real-world cases: one local world per module (see support.provider_world)."""

from support.provider_world import world  # noqa: F401  (pytest fixture)
