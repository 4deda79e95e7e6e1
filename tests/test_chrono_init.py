"""``vl.chrono_init``: the chrono init at a T_max of the user's choice (the built-in's is 100)."""

from __future__ import annotations

import hashlib
import math
import pickle

import pytest
import torch
from torch import nn
from typer.testing import CliRunner

import vanishlab as vl
from vanishlab.cli import app
from vanishlab.sweep.init_records import init_definition
from vanishlab.sweep.inits import INITS

runner = CliRunner()


def _drawn(init: vl.Init, cls: type[nn.RNNBase], layers: int, size: int = 5) -> nn.RNNBase:
    module = cls(3, size, num_layers=layers)
    init.apply(module, 0.7, torch.Generator().manual_seed(11))
    return module


def _digest(module: nn.Module) -> str:
    h = hashlib.sha256()
    for name, p in module.named_parameters():
        h.update(name.encode())
        h.update(p.detach().numpy().tobytes())
    return h.hexdigest()[:16]


@pytest.mark.parametrize(
    ("cls", "layers", "digest"),
    [
        (nn.LSTM, 1, "611d9fa0ea0c44b9"),
        (nn.LSTM, 2, "6469c570706a0ca7"),
        (nn.GRU, 1, "ed52745de3df5b55"),
        (nn.GRU, 2, "8d85b36cbccb409f"),
    ],
)
def test_the_built_in_chrono_draws_as_before_and_as_chrono_init_100(cls, layers, digest):
    """The digests are of the built-in's draws before chrono_init shared its draw: a cell
    measured then resumes with the same weights. chrono_init(100) draws the same, and is the
    built-in but for its apply (the built-in's manifest record stays "built-in")."""
    assert _digest(_drawn(INITS["chrono"], cls, layers)) == digest
    assert _digest(_drawn(vl.chrono_init(100), cls, layers)) == digest
    same = vl.chrono_init(100, name="chrono")
    builtin = INITS["chrono"]
    assert (same.description, same.models, same.validity, same.validity_reason) == (
        builtin.description,
        builtin.models,
        builtin.validity,
        builtin.validity_reason,
    )
    assert (same.gain_on, same.needs_bias) == (builtin.gain_on, builtin.needs_bias)


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU])
def test_chrono_init_draws_its_forget_biases_from_its_own_t_max(cls):
    """The same weights as the built-in's; the forget gate's bias (LSTM f, GRU z) log u with u
    in [1, T_max - 1], beyond the built-in's 99 at T_max = 1000; an LSTM's input gate -log u."""
    H = 256
    ours, builtin = _drawn(vl.chrono_init(1000), cls, 2, H), _drawn(INITS["chrono"], cls, 2, H)
    for l in range(2):
        for kind in ("weight_ih", "weight_hh"):
            name = f"{kind}_l{l}"
            assert torch.equal(getattr(ours, name), getattr(builtin, name))
        b_ih = getattr(ours, f"bias_ih_l{l}").detach().double()
        u = b_ih[H : 2 * H].exp()
        assert u.min() >= 1 - 1e-4 and u.max() <= 999 * (1 + 1e-6) and u.max() > 900
        rest = b_ih[2 * H :]
        if cls is nn.LSTM:
            assert torch.equal(b_ih[:H], -b_ih[H : 2 * H])
        else:
            rest = torch.cat([b_ih[:H], rest])
        assert not rest.any() and not getattr(ours, f"bias_hh_l{l}").any()


def test_chrono_init_names_and_describes_its_t_max(registry):
    init = vl.chrono_init(1000)
    assert init.name == "chrono_1000" and "T_max = 1000," in init.description
    assert "T_max = 100," in INITS["chrono"].description
    assert vl.chrono_init(500, name="long").name == "long"
    assert init.models == ("lstm", "gru") and init.needs_bias and init.validity == "none"
    vl.register_init(init)
    result = runner.invoke(app, ["inits"])
    assert result.exit_code == 0
    (line,) = [s for s in result.stdout.splitlines() if s.startswith("chrono_1000 ")]
    assert "lstm,gru" in line and "T_max = 1000," in line


@pytest.mark.parametrize(
    ("t_max", "error", "said"),
    [
        (2, ValueError, "t_max must be at least 3 (u ~ U(1, t_max - 1) needs a range), got 2"),
        (0, ValueError, "at least 3"),
        (-5, ValueError, "at least 3"),
        pytest.param(
            10**400,
            ValueError,
            "t_max must be at most float64's largest, 1.8e308, got 401 digits",
            id="10**400",
        ),
        (1000.0, TypeError, "t_max must be an integer, got 1000.0"),
        (math.nan, TypeError, "t_max must be an integer, got nan"),
        (True, TypeError, "t_max must be an integer"),
        ("1000", TypeError, "t_max must be an integer"),
        (None, TypeError, "t_max must be an integer"),
        (torch.tensor(1000.0), TypeError, "t_max must be an integer"),
    ],
)
def test_a_t_max_that_is_no_range_or_no_integer_is_refused(t_max, error, said):
    with pytest.raises(error) as caught:
        vl.chrono_init(t_max)
    assert type(caught.value) is error and said in str(caught.value)
    assert len(str(caught.value).splitlines()) == 1


def test_a_t_max_of_numpy_or_torch_is_an_integer_and_a_bad_name_is_refused():
    import numpy as np

    assert vl.chrono_init(np.int64(3)).name == "chrono_3"
    assert vl.chrono_init(torch.tensor(7)).description == vl.chrono_init(7).description
    with pytest.raises(vl.VanishlabError, match="no commas"):
        vl.chrono_init(1000, name="chrono,1000")


def test_chrono_init_pickles_and_is_recorded_with_its_t_max():
    """Workers get the init by pickling; a run's manifest records what the name stood for,
    so chrono_init(500) and chrono_init(1000) under one name are two definitions."""
    init = vl.chrono_init(1000)
    again = pickle.loads(pickle.dumps(init))
    assert again == init
    assert _digest(_drawn(again, nn.LSTM, 2)) == _digest(_drawn(init, nn.LSTM, 2))
    assert init_definition(vl.chrono_init(500, name="x")) != init_definition(
        vl.chrono_init(1000, name="x")
    )
    assert init_definition(INITS["chrono"]) == "built-in"


_EXPERIMENT = '''"""chrono at T_max 500 against the built-in's."""
import vanishlab as vl

vl.register_init(vl.chrono_init(500))
SWEEP = vl.Sweep(model=("lstm", "gru"), init=("chrono", "chrono_500"), hidden_size=6,
                 input_size=3, seq_len=8, batch=2, num_layers=(1, 2))
'''


@pytest.mark.slow  # among the fast tier's slowest on 2 cores (make test < 5 min)
def test_an_experiment_of_chrono_init_500_sweeps_on_two_workers_loaded_twice(tmp_path, registry):
    """The module is loaded once per sweep in this process: the second registration of an equal
    chrono_init(500) replaces the first (it said "already registered"). Two workers measure
    what one does."""
    path = tmp_path / "long_chrono.py"
    path.write_text(_EXPERIMENT, encoding="utf-8")
    for workers in (1, 2):
        run = vl.run_sweep(path, tmp_path / f"w{workers}", workers=workers, progress=False)
        assert (run.n_run, run.n_failed) == (8, 0)
    one, two = (vl.load_results(tmp_path / f"w{w}") for w in (1, 2))
    assert one.equals(two) and set(one["init"]) == {"chrono", "chrono_500"}
    with pytest.raises(vl.VanishlabError, match="'chrono_500' is already registered"):
        vl.register_init(vl.chrono_init(400, name="chrono_500"))


def test_the_command_line_sweeps_chrono_1000_by_name_and_refuses_a_misspelt_one(tmp_path, registry):
    module = tmp_path / "mine.py"
    module.write_text(
        '"""Mine."""\nimport vanishlab as vl\n\nvl.register_init(vl.chrono_init(1000))\n'
        'SWEEP = vl.Sweep(model="lstm", hidden_size=4, input_size=2, seq_len=5, batch=1)\n'
    )
    out = tmp_path / "run"
    args = ["sweep", str(module), "--out", str(out), "--quiet", "--init"]
    result = runner.invoke(app, [*args, "chrono_1000"])
    assert result.exit_code == 0, result.stderr
    assert list(vl.load_cells(out)["init"]) == ["chrono_1000"]
    result = runner.invoke(app, [*args, "chrono_100"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: --init: unknown init 'chrono_100' (choose from ")
    assert "chrono, chrono_1000;" in line


def test_an_unregistered_chrono_name_says_how_to_register_it(tmp_path):
    """--init chrono_1000 without a module that registers it got the list of choices alone,
    which never holds it (helper 266's list): it now names vl.chrono_init and the command."""
    result = runner.invoke(app, ["sweep", "--model", "lstm", "--init", "chrono_1000", "--dry-run"])
    assert result.exit_code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith(
        "; chrono at T_max = 1000 is an init you register: "
        "vl.register_init(vl.chrono_init(1000)) in an experiment module, then vanishlab sweep "
        "MODULE.py --init chrono_1000"
    ), line
    result = runner.invoke(app, ["sweep", "--model", "lstm", "--init", "chrono_1OOO", "--dry-run"])
    assert result.exit_code == 2 and "vl.chrono_init" not in result.stderr
