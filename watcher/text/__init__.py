"""Text analysis: words, English lexicon and transliteration variants."""
