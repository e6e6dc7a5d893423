"""Peer challenge visit planner."""

__version__ = "0.1.0"
