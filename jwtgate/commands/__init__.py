"""Thin CLI commands: parse options, call the core, render, choose the exit code."""
