"""Axes, grids and cells: canonical values, stable ids, and one-line errors for bad input."""

from __future__ import annotations

import dataclasses
import itertools
import json
import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import sweep as cli_sweep
from vanishlab.cli._app import _Typer
from vanishlab.sweep.config import AXES, QUICK_SWEEP, CellConfig, Sweep, grid_ids, parse_axis
from vanishlab.sweep.flag_text import parse_number


def test_cell_id_is_pinned():
    # The id is a content hash of the canonical config: the same on every machine and in every
    # release. If this changes, every existing run directory stops resuming: do it on purpose.
    assert CellConfig().cell_id == "e81f6713a9fef73e"
    assert len(CellConfig(gain=0.5).cell_id) == 16
    # a zero and its -0.0, from the API or the command line, the ids runs of 0.0 have
    for gain in (0.0, -0.0):
        assert CellConfig(gain=gain).cell_id == "adb150558276ff24"
        assert CellConfig(input_std=gain).cell_id == "02fa8974cbc05a7c"
    assert Sweep(gain=parse_axis("gain", "-0.0")).cells()[0].cell_id == "adb150558276ff24"


def test_cell_id_is_canonical():
    base = CellConfig(gain=1.0, input_std=0.0, seed=3, hidden_size=8)
    same = CellConfig(gain=1, input_std=-0.0, seed=np.int64(3), hidden_size=np.int32(8))
    assert base == same and base.cell_id == same.cell_id
    assert isinstance(same.gain, float) and isinstance(same.seed, int)
    assert math.copysign(1.0, same.input_std) == 1.0  # -0.0 folded
    assert CellConfig(gain=1.0000001).cell_id != base.cell_id


def test_cell_ids_differ_across_every_axis():
    variants = {
        "model": "lstm",
        "activation": "relu",
        "num_layers": 2,
        "hidden_size": 65,
        "input_size": 3,
        "seq_len": 7,
        "init": "orthogonal",
        "gain": 0.9,
        "input_std": 0.5,
        "bias": False,
        "batch": 2,
        "seed": 1,
        "dtype": "float64",
        "task": "adding",
        "train_steps": 10,
        "lr": 0.001,
        "optimizer": "sgd",
        "clip": 0.0,
    }
    assert set(variants) == set(AXES)
    # A task or training needs the task's input size (refused otherwise): give it alongside.
    trained = {"task": "adding", "input_size": 2}

    def cell(name: str, value: object) -> CellConfig:
        needs_task = name in ("task", "train_steps")
        return CellConfig(**({**trained, name: value} if needs_task else {name: value}))

    ids = {CellConfig().cell_id} | {cell(k, v).cell_id for k, v in variants.items()}
    assert len(ids) == len(AXES) + 1


def test_sweep_coerces_and_orders_cells():
    sweep = Sweep(activation="relu", gain=[1, 2], seed=range(3), bias=(True, False))
    assert sweep.activation == ("relu",) and sweep.gain == (1.0, 2.0)
    assert sweep.seed == (0, 1, 2) and sweep.size == 12
    cells = sweep.cells()
    assert len(cells) == 12 and len({c.cell_id for c in cells}) == 12
    # AXES order, last axis fastest: seed varies faster than gain, bias faster than gain.
    assert [(c.gain, c.bias, c.seed) for c in cells[:4]] == [
        (1.0, True, 0),
        (1.0, True, 1),
        (1.0, True, 2),
        (1.0, False, 0),
    ]
    assert sweep.replace(gain=3).gain == (3.0,) and sweep.replace(gain=3).seed == (0, 1, 2)


def test_grid_ids_survive_json_round_trip():
    axes = json.loads(json.dumps({a: list(v) for a, v in QUICK_SWEEP.axes().items()}))
    assert grid_ids(axes) == {c.cell_id for c in QUICK_SWEEP.cells()}


def test_quick_sweep_is_informative_and_small():
    assert set(QUICK_SWEEP.activation) == {"tanh", "relu"}
    assert len(QUICK_SWEEP.init) >= 3 and len(QUICK_SWEEP.gain) >= 3
    assert max(QUICK_SWEEP.num_layers) == 2
    assert QUICK_SWEEP.size <= 100 and max(QUICK_SWEEP.hidden_size) <= 32


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activation": "sigmoid"}, "unknown activation 'sigmoid'"),
        ({"init": "he"}, "unknown init 'he'"),
        ({"dtype": "float16"}, "unknown dtype"),
        ({"hidden_size": 0}, "hidden_size must be at least 1, got 0"),
        ({"num_layers": -1}, "num_layers must be at least 1, got -1"),
        ({"seq_len": 2.5}, "seq_len must be an integer"),
        ({"batch": True}, "batch must be an integer"),
        ({"gain": -1.0}, "gain must be a finite number >= 0"),
        ({"gain": float("nan")}, "gain must be a finite number >= 0"),
        ({"input_std": float("inf")}, "input_std must be a finite number >= 0"),
        ({"gain": "1"}, "gain must be a number"),
        ({"bias": 1}, "bias must be true or false"),
        ({"seed": -1}, "seed must be between 0"),
    ],
)
def test_bad_values_raise_one_line(kwargs, message):
    for build in (CellConfig, Sweep):
        with pytest.raises(vl.VanishlabError, match=message) as err:
            build(**kwargs)
        assert "\n" not in str(err.value)


def test_bad_grids():
    with pytest.raises(vl.VanishlabError, match=r"lists 1\.0 twice"):
        Sweep(gain=(1, 1.0))
    with pytest.raises(vl.VanishlabError, match="has no values"):
        Sweep(seed=())
    with pytest.raises(vl.VanishlabError, match="unknown axis 'gian'"):
        Sweep().replace(gian=(1.0,))
    with pytest.raises(vl.VanishlabError, match="unknown axis"):
        Sweep.from_axes({"width": [3]})
    with pytest.raises(vl.VanishlabError, match="unknown config field"):
        CellConfig.from_dict({"width": 3})


@pytest.mark.parametrize(
    ("build", "error", "said"),
    [
        (lambda: CellConfig(activaton="relu"), TypeError, "CellConfig() got an unknown config "),
        (lambda: Sweep(activaton=("relu",)), TypeError, "Sweep() got an unknown axis "),
        (lambda: CellConfig.from_dict({"activaton": "relu"}), vl.VanishlabError, "unknown "),
        (lambda: Sweep.from_axes({"activaton": ["relu"]}), vl.VanishlabError, "unknown axis "),
        (lambda: Sweep().replace(activaton="relu"), vl.VanishlabError, "unknown axis "),
        (lambda: parse_axis("activaton", "relu"), vl.VanishlabError, "unknown axis "),
    ],
)
def test_a_misspelt_axis_is_refused_naming_the_nearest(build, error, said):
    """``CellConfig(activaton="relu")`` and ``Sweep(activaton=...)`` gave Python's own
    "unexpected keyword argument" and ``from_dict`` "unknown config field(s): activaton", with
    no word of the field meant; each now names it, in one line, and raises what it raised."""
    with pytest.raises(error) as err:
        build()
    text = str(err.value)
    assert said in text and "'activaton' (did you mean 'activation'?)" in text
    assert "\n" not in text and "axes are" not in text and "fields are" not in text
    # a name near none is refused with the list of every axis, as before
    with pytest.raises(TypeError, match=r"unknown config field 'width' \(config fields are: "):
        CellConfig(width=3)
    # several: plural ("unknown axis 'activaton' (...), 'gian' (...)" read as one name)
    with pytest.raises(vl.VanishlabError) as err:
        Sweep.from_axes({"activaton": ["relu"], "gian": [1.0]})
    assert str(err.value).startswith("unknown axes 'activaton' (did you mean 'activation'?), ")
    with pytest.raises(TypeError, match=r"\(\) got unknown config fields 'height', 'width' \("):
        CellConfig(width=3, height=2)


def test_parse_axis():
    assert parse_axis("gain", "0.5, 1,2") == (0.5, 1.0, 2.0)
    assert parse_axis("num_layers", "1,2,4") == (1, 2, 4)
    assert parse_axis("gain", "1e-1,.5,2.,+3,1E1") == (0.1, 0.5, 2.0, 3.0, 10.0)
    assert parse_axis("seed", "+0,07") == (0, 7)
    assert parse_axis("bias", "true,no") == (True, False)
    assert parse_axis("bias", "on,0") == (True, False)
    assert parse_axis("activation", "tanh,relu") == ("tanh", "relu")


@pytest.mark.parametrize(
    ("axis", "text", "message"),
    [
        ("gain", "1,,x", r"--gain: malformed list '1,,x' \(empty item"),
        ("gain", "1,", "malformed list"),
        ("gain", "1,x", "--gain: 'x' is not a number"),
        ("num_layers", "1,2.5", "--num-layers: '2.5' is not an integer"),
        ("hidden_size", "0", "--hidden-size: must be at least 1, got 0"),
        ("seq_len", "-3", "--seq-len: must be at least 1, got -3"),
        ("bias", "maybe", "--bias: 'maybe' is not true or false"),
        ("bias", "Truth", r"--bias: 'Truth' is not true or false$"),
        ("model", "RNNs", "--model: unknown model 'RNNs'"),
        ("activation", "tanh,gelu", "--activation: unknown activation 'gelu'"),
        ("init", "orthogonal,kaiming", "--init: unknown init 'kaiming'"),
        ("gain", "1,1", "--gain: lists 1.0 twice"),
        ("gain", "nan", "--gain: must be a finite number"),
        # int() and float() took these as 10, 1 and 0.5, in silence
        ("gain", "1_0", "--gain: '1_0' is not a number"),
        ("num_layers", "\u0661", "--num-layers: '\u0661' is not an integer"),
        ("gain", "\uff10.5", "--gain: '\uff10.5' is not a number"),
        # float() read these as 0.0 (a run of gain 0, named gain=0.0, in silence) and as inf
        # (refused as "got inf", a number the user never typed)
        ("gain", "1e-400", r"--gain: '1e-400' is closer to 0 than a float holds .* read as 0"),
        ("input_std", "0,1.5E-999", r"--input-std: '1.5E-999' is closer to 0 than a float"),
        ("gain", "1,1e400", r"--gain: '1e400' is beyond a float's range"),
    ],
)
def test_parse_axis_errors(axis, text, message):
    with pytest.raises(vl.VanishlabError, match=message) as err:
        parse_axis(axis, text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["0e-400", "0.000e5", "1e-320", "-0", "1.7e308", "inf"])
def test_parse_number_keeps_a_zero_written_as_such_and_the_floats_at_its_edges(text):
    assert parse_number("--gain", text, float) == float(text)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
        min_size=1,
        max_size=5,
        unique_by=lambda v: v + 0.0,
    )
)
def test_parse_axis_round_trips_floats(values):
    # What the manifest's command writes (repr) parses back to the same values and ids.
    text = ",".join(repr(v) for v in values)
    parsed = parse_axis("gain", text)
    assert parsed == tuple(v + 0.0 for v in values)
    assert [CellConfig(gain=v).cell_id for v in parsed] == [
        CellConfig(gain=v).cell_id for v in values
    ]


# --- the axis table ----------------------------------------------------------------------------


def test_docstring_table_is_the_axis_table():
    from vanishlab.sweep import config

    assert config.AxisSet(config.AXIS_TABLE).docstring_table() in config.__doc__
    assert [f.name for f in dataclasses.fields(CellConfig)] == list(AXES)
    assert CellConfig().to_dict() == {a.name: a.default for a in config.AXIS_TABLE}
    assert sorted(config.REPORT_ORDER) == sorted(AXES) and set(config.LABELS) == set(AXES)


def test_help_of_sweep_and_cell_config_lists_every_axis_with_its_default():
    """help(vl.Sweep) said "see the module docstring for each field": an IDE shows the class's
    docstring, not its module's, so the axes' defaults and meanings were nowhere in it."""
    from vanishlab.sweep import config

    table = config.AxisSet(config.AXIS_TABLE).docstring_table()
    for cls in (vl.Sweep, vl.CellConfig):
        lines = [line.strip() for line in cls.__doc__.splitlines()]
        assert "\n".join(lines).count(table) == 1, cls
        assert "module docstring" not in cls.__doc__


def test_a_new_axis_is_one_entry_in_the_table(monkeypatch):
    # A dummy axis added to the table reaches the cell config (field, default, validation,
    # id), the grid (values, product), the parser, the parquet schema and the command line
    # (``vanishlab sweep --dummy-depth``), with no other edit.
    from vanishlab.sweep import config

    dummy = config.Axis(
        "dummy_depth",
        int,
        3,
        meaning="a test axis",
        help="Dummy depths.",
        example="1,2",
        label="dummy",
        low=1,
        applies_to=("rnn",),
        in_id_at_default=False,
    )
    axes = config.AxisSet((*config.AXIS_TABLE, dummy))
    cell = axes.CellConfig(dummy_depth=np.int64(5))
    assert cell.dummy_depth == 5 and isinstance(cell.dummy_depth, int)
    assert axes.CellConfig().dummy_depth == 3
    assert axes.CellConfig.from_dict(cell.to_dict()) == cell
    with pytest.raises(vl.VanishlabError, match="dummy_depth must be at least 1"):
        axes.CellConfig(dummy_depth=0)
    # At its default the new axis leaves every existing cell id unchanged (old runs resume).
    assert axes.CellConfig().cell_id == CellConfig().cell_id
    assert cell.cell_id != CellConfig().cell_id
    sweep = axes.Sweep(dummy_depth=(1, 2), seed=range(2))
    assert sweep.size == 4 and {c.dummy_depth for c in sweep.cells()} == {1, 2}
    assert sweep.axes()["dummy_depth"] == (1, 2)
    assert axes.parse("dummy_depth", "1, 4") == (1, 4)
    with pytest.raises(vl.VanishlabError, match=r"--dummy-depth: 'x' is not an integer"):
        axes.parse("dummy_depth", "1,x")
    with pytest.raises(vl.VanishlabError, match=r"e\.g\. --dummy-depth 1,2"):
        axes.parse("dummy_depth", "1,,2")
    assert "dummy_depth" in axes.docstring_table()
    assert dummy.applies("rnn") and not dummy.applies("lstm") and dummy.arrow_type == "int64"
    # The parquet schema of a shard: an int64 column, nullable (it applies to rnn cells only).
    from vanishlab.sweep import store

    field = store.shard_schema(axes.table).field("dummy_depth")
    assert field.type == pa.int64() and field.nullable
    assert store.shard_schema(config.AXIS_TABLE) == store.SCHEMA
    # The command line: ``sweep --help`` lists --dummy-depth, and the flag parses (a flag given
    # twice adds its values) into the grid the command resolves.
    seen: dict = {}

    def variant(exp, *, smoke, overrides, out):
        seen.update(overrides)
        raise vl.VanishlabError("stop here")

    monkeypatch.setattr(cli_sweep, "variant", variant, raising=False)
    app = _Typer()
    app.command(name="sweep")(cli_sweep.make_sweep_command(axes.table, axes.parse))
    app.command(name="other")(lambda: None)  # a group, as the real application is
    help_text = CliRunner().invoke(app, ["sweep", "--help"], terminal_width=200).stdout
    assert "--dummy-depth" in help_text and "Dummy depths." in help_text
    result = CliRunner().invoke(app, ["sweep", "--dummy-depth", "1,2", "--dummy-depth", "4"])
    assert result.exit_code == 2 and "stop here" in result.stderr
    assert seen == {"dummy_depth": (1, 2, 4)}
    result = CliRunner().invoke(app, ["sweep", "--dummy-depth", "0"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --dummy-depth: must be at least 1, got 0"
    # The module's own classes are untouched.
    assert "dummy_depth" not in AXES and not hasattr(CellConfig(), "dummy_depth")


def test_axis_table_is_consistent():
    from vanishlab.sweep import config

    for a in config.AXIS_TABLE:
        assert a.canonical(a.default) == a.default
        assert parse_axis(a.name, a.example) == config.AxisSet(config.AXIS_TABLE).values(
            a.name, parse_axis(a.name, a.example)
        )
        assert a.flag == "--" + a.name.replace("_", "-")
    assert config.axis("activation").choices == config.ACTIVATIONS
    with pytest.raises(vl.VanishlabError, match="unknown axis 'nope'"):
        config.axis("nope")
    with pytest.raises(ValueError, match="twice"):
        config.AxisSet((config.AXIS_TABLE[0], config.AXIS_TABLE[0]))


def test_a_model_axis_makes_other_axes_conditional():
    # The coming ``model`` axis is one entry: activation already says it applies to rnn only.
    # A gated cell then records activation as not applicable (None) and exists once per
    # setting, not once per activation value.
    from vanishlab.sweep import config

    model = config.Axis(
        "model",
        str,
        "rnn",
        meaning="the recurrent cell",
        help="Models: rnn, lstm, gru.",
        example="rnn,lstm",
        label="model",
        choices=("rnn", "lstm", "gru"),
        in_id_at_default=False,
    )
    # The table now has the model axis (the gated cells); the dummy stands in for it here.
    axes = config.AxisSet((model, *(a for a in config.AXIS_TABLE if a.name != "model")))
    assert axes.CellConfig(model="lstm").activation is None
    with pytest.raises(vl.VanishlabError, match="relu would be dropped"):
        axes.CellConfig(model="lstm", activation="relu")
    assert axes.CellConfig().activation == "tanh"
    assert axes.CellConfig().cell_id == CellConfig().cell_id  # rnn cells keep their ids
    sweep = axes.Sweep(model=("rnn", "lstm"), activation=("tanh", "relu"), seed=(0, 1))
    cells = sweep.cells()
    assert sweep.size == len(cells) == 6  # rnn: 2 activations x 2 seeds; lstm: 2 seeds
    assert sorted((c.model, c.activation or "-") for c in cells) == sorted(
        [("rnn", "tanh"), ("rnn", "relu")] * 2 + [("lstm", "-")] * 2
    )
    assert len({c.cell_id for c in cells}) == 6
    assert {axes.config_id(c) for c in _product(sweep.axes())} == {c.cell_id for c in cells}
    # Without a model axis nothing is conditional: the module's own grid is a plain product.
    assert not config.AxisSet(tuple(a for a in config.AXIS_TABLE if a.name != "model")).conditional


@pytest.mark.parametrize(
    "build",
    [
        lambda: Sweep(model="lstm", activation="relu"),
        lambda: Sweep(model=("lstm", "gru"), activation=("tanh", "relu")),
        lambda: Sweep("gru", "relu"),  # positional, as the fields come
        lambda: Sweep(model="lstm").replace(activation="relu"),
        lambda: Sweep(activation="relu").replace(model="gru", activation="relu"),
    ],
)
def test_an_activation_no_model_of_the_grid_takes_is_refused_as_the_command_line_does(build):
    # vanishlab sweep --model lstm --activation relu was refused ("relu would be dropped"),
    # while vl.Sweep(model="lstm", activation="relu") quietly measured an LSTM.
    with pytest.raises(vl.VanishlabError) as err:
        build()
    said = str(err.value)  # the command line's words, in the API's names
    assert said.startswith("activation= applies to model rnn only, and the grid's models are ")
    assert said.endswith(": relu would be dropped; leave out activation=, or add rnn to model=")


@pytest.mark.parametrize("model", ["lstm", "gru"])
def test_a_gated_cell_given_an_activation_is_refused_as_a_grid_is(model):
    """vl.CellConfig(model="lstm", activation="relu") recorded activation None without a word
    (a measured LSTM, relu dropped), where vl.Sweep(model="lstm", activation="relu") is
    refused: one rule for both, in the same words. The default and None (a record's null)
    pass, and a grid's gated cells still record None."""
    with pytest.raises(vl.VanishlabError) as err:
        CellConfig(model=model, activation="relu")
    assert str(err.value) == (
        f"activation= applies to model rnn only, and the cell's model is {model}: relu would "
        "be dropped; leave out activation=, or use model rnn"
    )
    assert CellConfig(model=model, activation="tanh") == CellConfig(model=model)
    assert CellConfig(model=model, activation=None).activation is None
    cell = CellConfig(model=model)
    assert CellConfig.from_dict(cell.to_dict()) == cell  # a record reads back
    assert CellConfig(model="rnn", activation="relu").activation == "relu"


def test_an_activation_beside_rnn_at_its_default_or_from_a_grid_already_made_is_accepted():
    assert Sweep(model="lstm", activation="tanh").size == 1  # the default changes nothing
    assert Sweep(model=("rnn", "lstm"), activation="relu").size == 2
    # the quick grid's two activations, kept where --model lstm replaces its model: its
    # manifest's grid reads back, and so do copies of it
    quick = QUICK_SWEEP.replace(model="lstm", init="default")
    assert quick.activation == ("tanh", "relu") and quick.size == 12
    assert Sweep.from_axes(quick.axes()) == quick
    assert quick.replace(seed=(5,)).activation == ("tanh", "relu")
    assert "_given" not in quick.__dict__ and "_given" not in Sweep().__dict__


def _product(axes: dict) -> list[dict]:
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())]


@pytest.mark.parametrize(
    "axes",
    [
        {"model": ("rnn", "lstm", "gru"), "activation": ("tanh", "relu"), "seed": (0, 1)},
        {"model": ("gru", "rnn"), "activation": ("relu", "tanh"), "gain": (0.5, 2.0)},
        {"activation": ("tanh", "relu"), "num_layers": (1, 2), "seed": (3, 1, 2)},
        {"model": ("lstm",), "init": ("default", "forget_bias"), "seed": (0, 1)},
    ],
)
def test_a_grid_lists_what_checking_every_combination_would(axes: dict) -> None:
    """cells() builds cells without re-checking each value; the list must be exactly the one
    checked construction gives: same cells, same order, first of the repeats kept."""
    sweep = Sweep(**axes)
    naive: dict[str, CellConfig] = {}
    from vanishlab.sweep.config import axis

    for combo in _product(sweep.axes()):
        # an axis the combination's model does not take is left out (a cell given it is
        # refused): the grid lists that cell once, at None
        model = combo.get("model", "rnn")
        cell = CellConfig(**{k: v for k, v in combo.items() if axis(k).applies(model)})
        naive.setdefault(cell.cell_id, cell)
    cells = sweep.cells()
    assert cells == list(naive.values())
    assert [c.cell_id for c in cells] == list(naive)
    assert [c.to_dict() for c in cells] == [c.to_dict() for c in naive.values()]
    assert all(type(c) is CellConfig for c in cells)
    assert sweep.size == len(cells)  # counted without listing


def test_a_grid_bigger_than_a_run_takes_is_refused_at_once() -> None:
    from vanishlab.errors import GridTooLargeError
    from vanishlab.sweep.axes import MAX_CELLS

    with pytest.raises(GridTooLargeError, match="seed has 10,000,000 values"):
        Sweep(seed=range(10_000_000))  # refused before any cell is listed
    with pytest.raises(GridTooLargeError, match="the grid has 1,000,002 cells"):
        Sweep(model=("rnn", "lstm"), activation=("tanh", "relu"), seed=range(MAX_CELLS // 3 + 1))
    assert Sweep(model=("rnn", "lstm"), activation=("tanh", "relu"), seed=range(3)).size == 9


def test_a_numpy_bool_is_a_bool_as_numpy_integers_and_floats_are_numbers() -> None:
    """A row of load_cells holds NumPy scalars: its np.int64 sizes and np.float64 gain were
    taken, its np.True_ bias refused ("bias must be true or false, got np.True_"), so
    CellConfig(**row) and Sweep(bias=np.array([True, False])) failed."""
    import pandas as pd

    config = CellConfig(bias=False, hidden_size=4)
    row = pd.DataFrame([config.to_dict()]).iloc[0]
    assert isinstance(row["bias"], np.bool_)
    again = CellConfig.from_dict(row.to_dict())
    assert again == config and again.cell_id == config.cell_id and type(again.bias) is bool
    assert Sweep(bias=np.array([True, False])).bias == (True, False)
    with pytest.raises(vl.VanishlabError, match="bias must be true or false, got 0"):
        CellConfig(bias=0)


def test_a_cell_and_a_sweep_pickle_by_reference_to_the_config_module():
    # A pool's worker gets its cells pickled. From Python 3.12, make_dataclass put the classes
    # in vanishlab.sweep.axes (its caller), where no CellConfig is: every sweep with workers > 1
    # failed, "Can't pickle <class 'vanishlab.sweep.axes.CellConfig'>".
    import pickle

    from vanishlab.sweep import config

    for cls in (config.CellConfig, config.Sweep):
        assert cls.__module__ == "vanishlab.sweep.config"
        assert pickle.loads(pickle.dumps(cls())) == cls()


def _other_pythons() -> list[str]:
    """The Python 3.12+ interpreters on this machine besides the suite's (pyenv's, or on
    PATH): the suite runs on one, and the pickling above broke only from 3.12."""
    import glob
    import shutil
    import sys
    from pathlib import Path

    found = {shutil.which(f"python3.{m}") for m in range(12, 16)} - {None}
    found = {p for p in found if "shims" not in Path(p).parts}  # pyenv's need a version set
    found |= set(glob.glob(str(Path.home() / ".pyenv/versions/3.1[2-9]*/bin/python")))
    mine = Path(sys.executable).resolve()
    return sorted(p for p in found if p and Path(p).resolve() != mine)


@pytest.mark.parametrize("python", _other_pythons() or [None])
def test_the_config_classes_pickle_under_every_other_python_here(python):
    # The config module imports without torch, pandas or pyarrow: it loads in a bare Python.
    # Under 3.12 and 3.13 the classes said "vanishlab.sweep.axes" (the test above passes on
    # 3.11 either way), and every sweep with workers > 1 failed there.
    import subprocess
    from pathlib import Path

    if python is None:
        pytest.skip("no Python 3.12+ on this machine besides the suite's")
    code = (
        "import pickle\n"
        "from vanishlab.sweep import config\n"
        "for cls in (config.CellConfig, config.Sweep):\n"
        "    assert pickle.loads(pickle.dumps(cls())) == cls(), cls\n"
        "    print(cls.__module__)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [python, "-I", "-c", f"import sys; sys.path.insert(0, {str(root)!r})\n{code}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if "ModuleNotFoundError" in done.stderr:  # a dependency the config module grew
        pytest.skip(f"{python} lacks a module: {done.stderr.splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["vanishlab.sweep.config"] * 2
