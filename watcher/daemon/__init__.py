"""`watcher run`: timers, polling one feed, the health and metrics endpoint."""
