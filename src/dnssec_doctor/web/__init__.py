"""The web shell: a page and an HTTP API over the same check as the CLI (``serve``)."""
