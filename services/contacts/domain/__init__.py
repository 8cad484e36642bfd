"""Pure rules of the contacts service: numbers, registry imports, list drafting and review."""
