"""Rules over findings: the verdict, the primary cause, the recovery plan."""
