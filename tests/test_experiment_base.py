"""``Experiment.base``: the module's own ``SWEEP`` behind a variant, what a command naming the
experiment gets for an axis it gives no flag: not its SMOKE (the recorded command has no
--smoke), and not a variant's grid when a variant is varied again. (A recorded command gives
every axis as a flag since helper 411's audit, tests/test_reproduce_s411.py; these pin that a
variant's command still names the axis its smoke or a second variant set to the default.)"""

from __future__ import annotations

import shlex

from vanishlab.sweep.commands import reproducing_command
from vanishlab.sweep.experiments import load_experiment, variant

MODULE = '''"""Both models; its smoke variant the RNN alone."""
import vanishlab as vl
SWEEP = vl.Sweep(model=("rnn", "lstm"), hidden_size=4, input_size=2, seq_len=3, batch=2,
                 init="default", gain=1.0, seed=0)
SMOKE = SWEEP.replace(model="rnn")
'''


def _flags(command: str) -> dict[str, str]:
    words = shlex.split(command)
    return {
        w: words[i + 1] for i, w in enumerate(words) if w.startswith("--") and i + 1 < len(words)
    }


def test_a_smoke_variant_s_command_pins_an_axis_its_smoke_sets_to_the_default(tmp_path):
    """`sweep both --smoke` sweeps the RNN only; its command (no --smoke) must say --model
    rnn, or, run again, it sweeps SWEEP's rnn and lstm."""
    (path := tmp_path / "both.py").write_text(MODULE)
    exp = load_experiment(str(path))
    smoke = variant(exp, smoke=True)
    assert smoke.base == exp.sweep and smoke.sweep.axes()["model"] == ("rnn",)
    assert _flags(reproducing_command(smoke, tmp_path / "run", "r")).get("--model") == "rnn"


def test_a_variant_varied_again_keeps_the_module_s_sweep_as_its_base(tmp_path):
    (path := tmp_path / "both.py").write_text(MODULE)
    exp = load_experiment(str(path))
    once = variant(exp, overrides={"model": ("rnn",)})
    twice = variant(once, overrides={"seed": (1,)})
    assert once.base == twice.base == exp.sweep
    assert _flags(reproducing_command(twice, tmp_path / "run", "r")).get("--model") == "rnn"
