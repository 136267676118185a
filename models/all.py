"""Imports every model module so that the metadata knows every table."""

from models import actors, follows, inbox, outbox, posts  # noqa: F401
