"""facecraft: responsible face-swap videos. Importing this package loads no model and touches no file."""

__version__ = "0.1.0"
