"""A shard whose checksums hold but whose rows no measurement writes (made or edited by hand: its
SHA-256 digests are anyone's to compute again) is refused by every reader in one line, where the
report had ended in a traceback (a lag below 0 or twice, a +inf norm) or drawn numbers no
measurement gives (a lag beyond seq_len, a negative deviation, -inf without a zero sample)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from _cli_lines import one_error_line
from _tiny_run import TINY, tiny_run_dir
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep import shard
from vanishlab.sweep.checksums import META_DIGEST, content_digest, meta_digest
from vanishlab.sweep.config import CellConfig
from vanishlab.sweep.corrupt_shard import CorruptShardError


def _rewrite(path: Path, edit) -> None:
    """Edit the shard at ``path``'s rows (``edit``: a DataFrame to a DataFrame) and write it
    again with its checksums computed anew, as a hostile or careless writer can."""
    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow.remove_metadata()
    meta = json.loads(pf.schema_arrow.metadata[shard.CELL_META_KEY])
    df = edit(pf.read().to_pandas())
    floats = {n: pa.array(df[n].to_numpy(np.float64)) for n in df if n.startswith("log10_")}
    table = pa.Table.from_pandas(df.fillna({n: 0.0 for n in floats}), schema=schema)
    for name, values in floats.items():  # a NaN stays a NaN, not a null
        table = table.set_column(schema.get_field_index(name), schema.field(name), values)
    meta = {k: v for k, v in meta.items() if k != META_DIGEST}
    meta.update(n_rows=len(df), digest=content_digest(table))
    meta[META_DIGEST] = meta_digest(meta)
    pq.write_table(table.replace_schema_metadata({shard.CELL_META_KEY: json.dumps(meta)}), path)


def _at(column: str, value, row: int = 1):
    def edit(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[row, column] = value
        return df

    return edit


T, B = TINY["seq_len"], TINY["batch"]
EDITS = {
    "a negative lag": (_at("lag", -5, 0), "lag -5 of the input"),
    "a lag beyond seq_len": (lambda df: _at("lag", 10**6, len(df) - 1)(df), "lag 1000000 of"),
    "a row twice": (lambda df: pd.concat([df, df.iloc[:1]], ignore_index=True), "twice"),
    "+inf": (_at("log10_fro_mean", np.inf), "log10_fro_mean that is NaN or +inf"),
    "NaN": (_at("log10_spec_mean", np.nan), "log10_spec_mean that is NaN or +inf"),
    "a negative std": (_at("log10_fro_std", -1.0), "log10_fro_std that is negative"),
    "n_zero beyond batch": (_at("n_zero", B + 1), f"n_zero outside 0 to {B}"),
    "-inf without a zero": (_at("log10_fro_mean", -np.inf), "-inf without an exactly zero"),
    "a layer beyond": (_at("layer", 3, T + 1), "a layer outside 0 to 0"),
    "another source": (_at("source", "<script>", 0), "a source other than"),
    # each rule at its edge (a rule none of the edits above reaches could be dropped unseen):
    # an input's lags end at T - 1, a state's at T; an input has no layer, a state one
    "an input's lag T": (_at("lag", T, 0), f"lag {T} of the input, where a cell of seq_len"),
    "a state's lag T + 1": (lambda df: _at("lag", T + 1, len(df) - 1)(df), f"lag {T + 1} of"),
    "a state without a layer": (_at("layer", pd.NA, T + 1), "or none where it is 'state'"),
    "an input with a layer": (_at("layer", 0, 0), "a layer where the source is 'input'"),
    "a negative layer": (_at("layer", -1, T + 1), "a layer outside 0 to 0"),
    "a negative n_zero": (_at("n_zero", -1), f"n_zero outside 0 to {B}"),
    "an infinite std": (_at("log10_spec_std", np.inf), "log10_spec_std that is negative or"),
    "a zero sample without -inf": (_at("n_zero", 1), "zero sample (n_zero), or one with"),
}


@pytest.mark.parametrize("name", list(EDITS))
def test_a_shard_of_rows_no_measurement_writes_is_refused_by_its_readers(tmp_path, name):
    run, path = tiny_run_dir(tmp_path)
    edit, said = EDITS[name]
    _rewrite(path, edit)
    with pytest.raises(CorruptShardError, match="its rows hold") as err:
        vl.load_results(run)
    assert said in str(err.value)


def test_the_report_of_such_a_shard_is_one_line_not_a_traceback(tmp_path):
    """+inf in a shard's log10 norms ended the report in norm_frame's ValueError (exit 1)."""
    run, path = tiny_run_dir(tmp_path)
    _rewrite(path, _at("log10_fro_mean", np.inf))
    result = CliRunner().invoke(app, ["report", str(run), "-o", str(tmp_path / "r.html")])
    one_error_line(result, "is corrupt (its rows hold a log10_fro_mean that is NaN or +inf")
    assert not (tmp_path / "r.html").exists()


def test_the_rows_of_a_measured_cell_with_zero_jacobians_are_read(tmp_path):
    """A relu cell at gain 0: every state Jacobian beyond lag 0 exactly zero (-inf, n_zero = B):
    rows a measurement writes, read as such (the check refuses no real cell)."""
    config = CellConfig(**TINY, activation="relu", gain=0.0)
    frame, meta = vl.run_cell(config)
    assert (frame["n_zero"] > 0).any()
    run, _ = tiny_run_dir(tmp_path)
    shard.write_shard(run, frame, meta)
    assert (vl.load_results(run)["n_zero"] > 0).any()
