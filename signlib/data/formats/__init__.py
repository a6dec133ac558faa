"""Readers and writers of real sign-language data formats (one module per format)."""
