"""Kubernetes Therapy: a local assistant that answers Kubernetes questions from your own notes."""

__version__ = "0.1.0"
