"""Ingest: one article end to end, from a source's entry to stored matches and pending alerts."""
