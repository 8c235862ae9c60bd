"""Frozen values shared by every layer: verdicts, findings, snapshots. No I/O here."""
