"""hpconfig: configuration as code for Hyperproof controls."""

__version__ = "1.0.0"
