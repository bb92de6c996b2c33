"""watcher: conflict-tracking alert daemon."""
