"""python -m watcher."""

from watcher.entry import main

main()
