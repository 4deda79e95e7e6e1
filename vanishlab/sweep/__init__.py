"""Sweeps: grids of cells, measured and summarised into a run directory.

- :mod:`.axis_entry` (the :class:`~.axis_entry.Axis` entry), :mod:`.axes`
  (:class:`~.axes.AxisSet`) and :mod:`.config` (the axis table, :class:`~.config.CellConfig`,
  :class:`~.config.Sweep`, the quick grid);
  :mod:`.catalog` (the built-in inits' names, without torch) and :mod:`.inits` (the registry);
- one cell: :mod:`.cell` (its module and inputs, aggregation over the batch), :mod:`.prediction`
  (its mean-field inputs), :mod:`.critical` (its critical gain), :mod:`.cell_summary` (its row
  beside theory; :mod:`.cell_theory`, its theory), :mod:`.measure` (:func:`~.measure.run_cell`:
  measure and summarise it);
- a run: :mod:`.executors` (this process, local workers, Dask), :mod:`.runner`
  (:func:`~.runner.run_sweep`), :mod:`.store` (shards, checksums, lock; :mod:`.shard`, one
  shard written and read back), :mod:`.manifest`, :mod:`.files` (atomic writes),
  :mod:`.memory` (a cell's memory), :mod:`.summary` (the run's table, from the rows stored in
  its shards), :mod:`.experiments` (experiment modules), :mod:`.grid_text` (a grid in words).

Layer 3 of the package (see docs/design.md): it imports the core and the analysis.
"""
