"""Benchmarks of the book's methods; run ``python -m benchmarks.run`` from the repository root."""
