"""Benchmarks and the large seed; run by hand (see bench/RESULTS.md)."""
