"""Mutation round on the sweep's grid: config, axes, the init registry and its draws, chrono,
grid_text and nearest (vanishlab/sweep/config.py, axes.py, axis_entry.py, plan.py, inits.py,
init_entry.py, catalog.py, init_weights.py, chrono.py, grid_text.py, nearest.py). Each test
here failed on a small plausible change of the code it names that passed the tests of that
code, and passes on the code as it is; each checks against a number of its own, not one read
from the code it tests.

Mutants tried / killed by the tests before / killed with these (2026-12-07; each run against
the fast tier of test_config, test_grid_checks, test_choice_suggestions, test_grid_digest,
test_gated_sweep, test_chrono_init, test_inits and test_mutants_s46..s57, ``-x -m "not
slow"``, with test_runs for grid_text and test_sweep for plan; after: this file too):
  axis_entry.canonical and misfit (1 vs 1.0, -0.0, bounds < / <=)                 5 /  5 /  5
  axes: cell id (n/a as None, later axes, sorted keys), cells() and size per
  model, n/a cells, duplicates, empty axes, MAX_CELLS, bool words, product order  14 / 11 / 14
  config: gate-bias init beside bias false, lr, a task's shortest seq_len          3 /  1 /  3
  init_weights, catalog, chrono: gains, Xavier / Kaiming, fan-in, the gate blocks
  of forget_bias and chrono, T_max and its bounds, init names                     21 / 20 / 20
  nearest (cutoffs, case), grid_text (digest, values_brief, n/a), plan's peak       8 /  5 /  7
In all 51 / 42 / 49. The 2 left are equivalent in effect: chrono_init refusing t_max equal to
float64's largest (``>=``; only that 309-digit integer differs), and nearest_name suggesting
the last of two names alike but for case rather than the first (either is a right guess).
"""

from __future__ import annotations

import pytest

from vanishlab.errors import VanishlabError
from vanishlab.sweep.config import CellConfig, Sweep


def test_a_gate_bias_init_is_refused_beside_bias_false_among_other_bias_values():
    """Mutant: ``_init_applies`` refused a gate-bias init only where every bias value was
    False (``axes["bias"] == (False,)``): a grid of ``--bias true,false`` then listed lstm
    cells of forget_bias without biases, refused only when their weights were drawn."""
    with pytest.raises(VanishlabError, match="sets gate biases"):
        Sweep(model="lstm", init="forget_bias", bias=(True, False))
    with pytest.raises(VanishlabError, match="sets gate biases"):
        Sweep(model=("lstm", "gru"), init=("default", "chrono"), bias=(False, True))
    assert Sweep(model="lstm", init="forget_bias", bias=True).size == 1


@pytest.mark.parametrize(("task", "size", "shortest"), [("adding", 2, 2), ("recall", 8, 1)])
def test_a_task_takes_sequences_of_exactly_its_shortest_length(task, size, shortest):
    """Mutant: the task's shortest sequence refused (``length <= shortest``): the adding task
    is defined on T = 2 (two marked steps), recall on T = 1; one step shorter is refused."""
    cell = CellConfig(task=task, input_size=size, seq_len=shortest, train_steps=1)
    assert cell.seq_len == shortest
    if shortest > 1:
        with pytest.raises(VanishlabError, match=f"at least {shortest} steps"):
            Sweep(task=task, input_size=size, seq_len=(shortest - 1, 5), train_steps=1)


def test_a_grid_of_exactly_max_cells_is_taken():
    """Mutant: ``size >= MAX_CELLS`` refused a grid of exactly a million cells, the most
    that the refusal and docs/cli.md say one run takes (1,000 seeds by 1,000 hidden sizes:
    counted, not listed)."""
    grid = Sweep(seed=range(1000), hidden_size=range(1, 1001))
    assert grid.size == 1_000_000
    with pytest.raises(VanishlabError, match="1,001,000 cells"):
        Sweep(seed=range(1001), hidden_size=range(1, 1001))


def test_a_plans_peak_memory_is_its_largest_cells(tmp_path):
    """Mutant: ``plan_sweep``'s peak over the cells taken as the least (``min``): the memory
    check then passed a grid whose largest cell does not fit. A grid of H = 8 and 512 needs
    what its H = 512 cell alone needs, more than its H = 8 cell alone."""
    from vanishlab.sweep.plan import plan_sweep

    def peak(sizes):
        return plan_sweep(Sweep(hidden_size=sizes), tmp_path / "run").peak_bytes

    assert peak((8, 512)) == peak((512,)) > peak((8,))


def test_a_long_list_is_shortened_as_a_range_only_where_it_is_one():
    """Mutant: ``values_brief`` wrote every long list of integers as a run
    (``0,1,2,...,99``), so seeds 0,5,7,... read as consecutive ones: a description that
    says another grid than the one run."""
    from vanishlab.sweep.grid_text import values_brief

    assert values_brief(tuple(range(12))) == "0,1,2,...,11 (12 values)"
    spread = (0, 5, 7, 9, 11, 13, 15, 17, 19)
    assert values_brief(spread) == "0,5,7,9,... (9 values)"


def test_an_axis_is_n_a_only_where_no_model_of_the_grid_takes_it():
    """Mutant: ``applies_to_no_model`` true where some model of the grid does not take the
    axis: a grid of rnn and lstm then described its activations as ``n/a``."""
    from vanishlab.sweep.grid_text import axes_text

    both = Sweep(model=("rnn", "lstm"), activation=("tanh", "relu")).axes()
    assert axes_text(both, ["activation"]) == "activation = tanh,relu"
    gated = Sweep(model=("lstm", "gru")).axes()
    assert axes_text(gated, ["activation"]) == "activation = n/a"


def test_the_command_line_reads_one_and_zero_as_true_and_false():
    """Mutant: ``1`` dropped from the words of true: ``--bias 1,0`` was refused ("'1' is not
    true or false") though ``0`` was read as false; the help's words and their case too."""
    from vanishlab.sweep.config import parse_axis

    assert parse_axis("bias", "1,0") == (True, False)
    assert parse_axis("bias", "Yes,OFF") == (True, False)
    with pytest.raises(VanishlabError, match="not true or false"):
        parse_axis("bias", "2")


# slow: a million seeds are each checked (about 3 s on one loaded core); the fast tier's
# test_a_grid_of_exactly_max_cells_is_taken covers the grid's own bound
@pytest.mark.slow
def test_one_axis_of_exactly_max_cells_values_is_taken():
    """Mutant: ``AxisSet.values`` refused an axis of exactly MAX_CELLS values (``>=``), a
    grid of a million seeds that the grid's own bound takes."""
    assert Sweep(seed=range(1_000_000)).size == 1_000_000
