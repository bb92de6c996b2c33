"""The matching benchmark: tokenizer floor, analysis, engine and a regex baseline on FA-KES.

`python -m bench.run` (or `make bench`) measures everything in one process and writes RESULTS.md.
"""
