"""Renderers: plain data (problems, plans, check reports) → text. Pure: no printing, no files,
no exits."""
