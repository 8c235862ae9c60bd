"""Allow ``python -m dnssec_doctor``."""

from dnssec_doctor.cli import run

run()
