"""Settings: watcher.yaml and WATCHER_* variables, validated once and passed down."""
