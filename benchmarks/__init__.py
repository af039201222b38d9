"""Benchmarks of neurolearn against baselines measured in the same run: ``python -m benchmarks`` (see README.md)."""
