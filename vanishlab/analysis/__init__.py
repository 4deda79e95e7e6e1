"""Analysis of measured norms: decay fits, and what theory predicts for a network.

Layer 2 of the package (see docs/design.md): it imports the core and nothing above it.
"""
