"""python -m watcher."""

from watcher.cli.entry import main

main()
