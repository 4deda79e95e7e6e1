"""The measurement core: exact Jacobian norms of a recurrent module, and its Lyapunov spectrum.

Layer 1 of the package (see docs/design.md): it imports only :mod:`vanishlab.errors`, knows
nothing of files, sweeps or reports, and takes a module and tensors.
"""
