"""Bulk scanning: many names at once with shared caches (``dnssec-doctor scan``)."""
