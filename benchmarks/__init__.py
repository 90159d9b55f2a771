"""Benchmarks of sgdsm_cloud: run them with ``python benchmarks/run.py`` (see BENCHMARKS.md)."""
