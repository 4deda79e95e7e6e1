"""The theory table's "cells" of a setting with failed seeds stay on one line.

In a run with an overflowing setting (the "zeros" run: relu at gain 12 in float32), the
"Theory vs measurement by setting" table's cells column read "0 of" over "2", the count broken
after its "of" in a 1280 px window; the rates table's horizon and the trainability table's lag
were kept whole the same way (``Table.nowrap``).
"""

from __future__ import annotations

import vanishlab as vl
from vanishlab.report import build_report
from vanishlab.report.model import Table


def test_a_partly_failed_settings_count_is_never_broken(report_run) -> None:
    run = report_run("zeros")
    report = build_report(
        vl.load_results(run),
        vl.load_cells(run),
        vl.load_manifest(run),
        sections=["theory"],
        timestamp="2024-01-01",
    )
    section = next(s for s in report.sections if s.key == "theory")
    table = next(b for b in section.blocks if isinstance(b, Table) and "by setting" in b.title)
    col = table.columns.index("cells")
    assert any(" of " in str(row[col]) for row in table.rows)  # the failed setting's "0 of 2"
    assert col in table.nowrap
