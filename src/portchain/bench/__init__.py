"""Benchmarks run by portchain bench."""
