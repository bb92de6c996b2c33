"""Alembic migrations of the watcher schema (env.py, versions/); run by watcher.store."""
