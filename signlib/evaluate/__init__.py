"""Evaluation: metrics, back-translation and the tables every stage writes."""
