"""The team's web workspace (issue 19)."""
