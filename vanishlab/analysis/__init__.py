"""Analysis of measured norms: decay fits, and what each theory regime predicts for a network.

One module per job: :mod:`.fits` (decay rates, horizons, phases of measured curves),
:mod:`.activations`, and one per regime of docs/theory.md: :mod:`.linear` (the origin,
ln rho(W_hh); an undriven network's fixed point, ln rho(D* W_hh)), :mod:`.pascanu` (the bound
of Pascanu et al. 2013), :mod:`.meanfield` (q*, chi_1; with :mod:`.gaussian` for its
expectations). Rates are natural log per step; norms log10.

Layer 2 of the package (see docs/design.md): it imports the core and nothing above it.
"""
