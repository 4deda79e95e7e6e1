"""The version of vanishlab (one definition; the package and the summary cache read it)."""

__version__ = "0.1.0"
