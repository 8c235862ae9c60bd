"""dnssec-doctor: diagnose DNSSEC outages and say how to recover from them."""

__version__ = "0.1.0"
