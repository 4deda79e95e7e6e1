"""A sweep cell's own analysis without frames on a few rows: its state curves fitted as arrays
(``cell_summary._fit_layers``), its Pascanu bounds looked up by position (``check_pascanu``,
``pascanu_holds``); each the same numbers, refusals and verdict as the frame path it replaced
(a selection, ``fit_decay`` and its records; a merge with ``pascanu_envelope``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import vanishlab as vl
from vanishlab.sweep.cell_summary import _fit_layers

_LAGS = np.arange(9)


def _rows(curves: dict[int, np.ndarray]) -> pd.DataFrame:
    """A cell's rows as a sweep stores them: input rows (layer missing) and each layer's state
    curve (log10 Frobenius norms), lags 0..8."""
    parts = [
        pd.DataFrame(
            {
                "source": "input",
                "layer": pd.array([None] * len(_LAGS), dtype="Int64"),
                "lag": _LAGS,
                "log10_fro_mean": -0.3 * _LAGS,
            }
        )
    ]
    for layer, norms in curves.items():
        parts.append(
            pd.DataFrame(
                {
                    "source": "state",
                    "layer": pd.array([layer] * len(_LAGS), dtype="Int64"),
                    "lag": _LAGS,
                    "log10_fro_mean": norms,
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def _by_frame(rows: pd.DataFrame) -> dict[int, dict]:
    """The frame path: the state rows selected, fit_decay, its records by layer."""
    state = rows[(rows["source"] == "state").to_numpy(dtype=bool)]
    fitted = vl.fit_decay(state[["layer", "lag", "log10_fro_mean"]], norm="fro")
    return {int(rec["layer"]): rec for rec in fitted.to_dict("records")}


_CURVES = {
    "decaying": {1: -0.2 * _LAGS + 0.01 * np.sin(_LAGS), 0: -0.1 * _LAGS},
    "cut by an exact zero": {0: np.where(_LAGS < 5, -0.4 * _LAGS, -np.inf)},
    "vanishes at once": {0: np.where(_LAGS < 1, 0.0, -np.inf)},
    "zero passed": {0: np.where(_LAGS == 4, -np.inf, 0.02 * _LAGS)},
    "state_c at lag 0": {0: np.where(_LAGS == 0, -np.inf, 0.5 - 0.3 * _LAGS)},
}


@pytest.mark.parametrize("curves", list(_CURVES.values()), ids=list(_CURVES))
def test_a_cells_state_curves_fit_as_fit_decay_fits_them(curves) -> None:
    rows = _rows(curves)
    fast, slow = _fit_layers(rows), _by_frame(rows)
    assert list(fast) == list(slow)  # the layers in the order they first appear
    for layer, rec in slow.items():
        got = fast[layer]
        assert set(got) == set(rec)
        for key, value in rec.items():
            if value is None or value is pd.NA:  # fit_decay's nullable Int64: missing
                assert got[key] is None, key
            elif isinstance(value, float) and np.isnan(value):
                assert np.isnan(got[key]), key
            else:
                assert got[key] == value and type(got[key]) is type(value), key


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda r: r.assign(log10_fro_mean=r["log10_fro_mean"].where(r["lag"] != 3)), "holds nan"),
        (lambda r: pd.concat([r, r.iloc[[-1]]], ignore_index=True), "more than once"),
        (lambda r: r.assign(lag=r["lag"].astype(float)), None),  # (a float lag: fit_decay's)
    ],
)
def test_rows_off_the_plain_path_are_fit_decays(change, error) -> None:
    """A NaN norm, a lag twice in a curve: fit_decay's refusal, word for word, which the
    summary row's note quotes; float lags: fit_decay's records."""
    rows = change(_rows(_CURVES["decaying"]))
    if error is None:
        assert _fit_layers(rows).keys() == _by_frame(rows).keys()
        return
    with pytest.raises(ValueError, match=error) as fast:
        _fit_layers(rows)
    with pytest.raises(ValueError) as slow:
        _by_frame(rows)
    assert str(fast.value) == str(slow.value)


_KEYED = {
    "a named level, a key of the curves": lambda r: r.set_index(
        pd.Index(["c"] * len(r), name="cell_id")
    ),
    "a named level of one row each": lambda r: r.rename_axis("row"),
    "lag both a level and a column": lambda r: r.set_index(r["lag"].rename("lag")),
    "layer and lag in the index": lambda r: r.set_index(["layer", "lag"]),
    "no lag column": lambda r: r.drop(columns="lag"),
}


@pytest.mark.parametrize("change", list(_KEYED.values()), ids=list(_KEYED))
def test_rows_with_named_levels_or_without_a_key_are_fit_decays(change) -> None:
    """fit_decay reads named index levels as columns (a key of the curves, or a lag both a
    level and a column: refused), and the selection of a missing column is a KeyError in its
    words: each as the frame path gave it (the array path ignored the index: a curve of every
    row was one of each layer; and said KeyError: 'lag' where the note quoted "['lag'] not in
    index")."""
    rows = change(_rows(_CURVES["decaying"]))
    try:
        slow = _by_frame(rows)
    except (KeyError, ValueError) as err:
        with pytest.raises(type(err)) as fast:
            _fit_layers(rows)
        assert str(fast.value) == str(err)
        return
    assert repr(_fit_layers(rows)) == repr(slow)  # the records, their keys, NA and NaN


@pytest.mark.parametrize("column", ["source", "layer", "lag", "log10_fro_mean"])
def test_rows_with_a_column_twice_are_fit_decays(column) -> None:
    """A column there twice (a concat along the columns): the frame path's records or its
    error, word for word (the array path failed with an AttributeError of its own)."""
    rows = _rows(_CURVES["decaying"])
    rows = pd.concat([rows, rows[[column]]], axis=1)
    try:
        slow = _by_frame(rows)
    except (AttributeError, KeyError, ValueError) as err:
        with pytest.raises(type(err)) as fast:
            _fit_layers(rows)
        assert str(fast.value) == str(err)
        return
    assert repr(_fit_layers(rows)) == repr(slow)


def _frame_and_module(num_layers: int) -> tuple[nn.RNN, pd.DataFrame]:
    torch.manual_seed(3)
    rnn = nn.RNN(3, 5, num_layers=num_layers)
    frame = vl.jacobian_norms(rnn, torch.randn(6, 2, 3, generator=torch.Generator().manual_seed(0)))
    return rnn, frame


@pytest.mark.parametrize("num_layers", [1, 2])
def test_each_rows_bound_is_the_envelopes_row_of_its_keys(num_layers) -> None:
    """By position in the envelope, as a merge on (source, layer, lag) joined them: shuffled
    rows, float layers (1.0 is layer 1), missing layers of input rows."""
    rnn, frame = _frame_and_module(num_layers)
    frame = frame.sample(frac=1.0, random_state=0).assign(layer=frame["layer"].astype(float))
    checked = vl.check_pascanu(rnn, frame)
    env = vl.pascanu_envelope(rnn, 6)
    merged = frame.merge(env, on=["source", "layer", "lag"], how="left")
    for col in ("log10_spec_bound", "log10_fro_bound"):
        np.testing.assert_array_equal(checked[col].to_numpy(), merged[col].to_numpy())
    assert checked.index.equals(frame.index)
    deeper = frame.assign(layer=frame["layer"] + 1)  # the top layer's rows one layer up
    with pytest.raises(ValueError, match=rf"cannot produce .*, layer={num_layers}\.0, lag="):
        vl.check_pascanu(rnn, deeper)


def test_the_frame_keeps_its_own_columns_and_dtypes() -> None:
    """The rows given back are the frame's: a categorical source column was the merge's
    string column."""
    rnn, frame = _frame_and_module(1)
    frame = frame.assign(source=frame["source"].astype("category"))
    checked = vl.check_pascanu(rnn, frame)
    pd.testing.assert_frame_equal(checked[frame.columns], frame, check_exact=True)


def test_pascanu_holds_is_the_checks_verdict() -> None:
    from vanishlab.analysis.pascanu import pascanu_holds

    rnn, frame = _frame_and_module(2)
    assert pascanu_holds(rnn, frame) and not vl.check_pascanu(rnn, frame)["violated"].any()
    over = frame.assign(log10_fro=frame["log10_fro"] + 5.0 * (frame["lag"] > 2))
    assert not pascanu_holds(rnn, over) and vl.check_pascanu(rnn, over)["violated"].any()
