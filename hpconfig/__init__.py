"""hpconfig: configuration as code for Hyperproof controls."""

__version__ = "0.1.0"
