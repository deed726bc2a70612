"""Lint rules, one small function each, grouped by family (references, traps, security)."""
