"""The `watcher` command line: one module per command group, errors to exit status in common.py."""
