"""Sweeps: the axes and cells, initialisations, running cells (locally or on Dask), the run
directory's store, experiments and per-cell summaries.

Layer 3 of the package (see docs/design.md): it imports the core and the analysis.
"""
