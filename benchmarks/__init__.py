"""Benchmarks for k8snet (`make bench`): figures are reported, never asserted."""
