"""Article sources: seed text files, JSON lines, directories and stdin (feeds come later)."""
