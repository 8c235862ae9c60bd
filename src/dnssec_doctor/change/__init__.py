"""Change windows: compare two snapshots (diff), check a planned DS, go insecure safely."""
