"""Zone files: a streaming reader for the master-file subset signers emit (RFC 1035 §5)."""
