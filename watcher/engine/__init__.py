"""The matching engine: analysed text and compiled rules in, matches out. Pure."""
