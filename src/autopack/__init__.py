"""Autopack: turn a labelled issue into a review-ready pull request with a phased LLM executor."""

__version__ = "0.1.0"
