"""Rendering: the only place that formats output (text via rich, JSON, SARIF, …)."""
