"""A setting in a title or a row's label names the model first: a figure of mixed rnn, lstm
and gru cells draws the model as its column axis, and its panels read "tanh, 2 layers, model =
rnn": the model, which a reader needs first, came last."""

from __future__ import annotations

import pytest
from _report_run import report_sections

import vanishlab as vl
from vanishlab.report.format import NOT_APPLICABLE, setting_text


def test_setting_text_puts_the_model_first_whatever_order_its_pairs_come_in():
    pairs = [("activation", "tanh"), ("num_layers", 2), ("init", "default"), ("model", "rnn")]
    assert setting_text(pairs) == "model = rnn (tanh), 2 layers, init = default"
    assert setting_text([("activation", NOT_APPLICABLE), ("model", "lstm")]) == "model = lstm"


def test_the_other_axes_keep_the_order_they_are_given_in():
    assert setting_text([("seq_len", 6), ("gain", 2.0), ("zz", 3), ("model", "gru")]) == (
        "model = gru, T = 6, gain = 2.0, zz = 3"
    )


@pytest.fixture(scope="module")
def mixed_sections(tmp_path_factory):
    """A run of rnn, lstm and gru at two depths and two inits: the model is the column axis."""
    grid = vl.Sweep(
        model=("rnn", "lstm", "gru"), num_layers=(1, 2), init=("default", "orthogonal"),
        hidden_size=2, input_size=2, seq_len=4, batch=1,
    )  # fmt: skip
    return report_sections(tmp_path_factory.mktemp("mixed") / "run", grid)


def test_the_decay_curves_of_mixed_models_name_the_model_first(mixed_sections):
    titles = [p.title for b in mixed_sections["decay"].blocks for p in getattr(b, "panels", ())]
    assert titles and all(t.startswith("model = ") for t in titles), titles
    assert "model = rnn (tanh), 1 layer" in titles, titles


def test_an_init_in_a_title_reads_name_equals_value(mixed_sections):
    """Panel titles named an init by its value alone ("T = 6, default", "forget_bias") beside
    "T = 6" and "gain = 0.5": "default" said nothing of what it was. It reads "init = default"."""
    titles = [
        p.title for s in mixed_sections.values() for b in s.blocks for p in getattr(b, "panels", ())
    ]
    named = [t for t in titles if "default" in t or "orthogonal" in t]
    assert named, titles
    assert all("init = default" in t or "init = orthogonal" in t for t in named), named
