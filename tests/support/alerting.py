"""What the alert tests share: the mail account of their SMTP receiver and a rule set with
three rules that all match one article about Aleppo (one message per article and channel)."""

from __future__ import annotations

ALERTS_USER = "alerts"
PASSWORD = "S3cret-Pa55word-xyz"

THREE_RULES = """
rules:
  - id: aleppo-mention
    title: Aleppo in the news
    query: ~Aleppo
    severity: low
  - id: aleppo-blast
    title: Blasts in Aleppo
    query: (blast OR bomb) NEAR/10 ~Aleppo
    severity: critical
  - id: aleppo-casualties
    title: Casualties in Aleppo
    query: (killed OR dead) NEAR/10 ~Aleppo
    severity: high
"""
