"""Fixtures shared by several test files."""

from tests.redis_server import redis_url  # noqa: F401 (a fixture)
