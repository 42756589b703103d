"""Renderers: plain data (problems, plans) → text. Pure: no printing, no files, no exits."""
