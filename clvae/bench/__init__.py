"""Benchmark scripts: each prints figures and ratios against a baseline measured in the
same run (``python -m clvae.bench.<name> --help``)."""
