"""Steward: the accountability system for the IANA naming functions."""

__version__ = "0.1.0"
