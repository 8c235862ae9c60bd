"""Renderers: pure functions of a report (text, JSON), no I/O."""
