"""Procedural multilingual signing corpus (DESIGN §3)."""
