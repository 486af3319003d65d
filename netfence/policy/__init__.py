"""NetworkPolicy semantics: syntax rules, label selectors, the typed records, the one policy reader, the engine and its verdicts."""
