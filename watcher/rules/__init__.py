"""Watch rules: the query language, loading YAML rule files, and the rule values."""
