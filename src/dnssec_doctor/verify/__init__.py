"""Zone verification: a signed zone file checked before it goes live (``zone verify``)."""
