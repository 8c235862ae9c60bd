"""Allow ``python -m dnssec_doctor``."""

from dnssec_doctor.cli import main

raise SystemExit(main())
