"""The section "What this means for long dependencies" of a monitored training run's page
(:class:`vanishlab.JacobianMonitor`): the answer of ``vanishlab analyze``'s page
(:func:`.long_deps.long_deps_answer`: a verdict, the gradient from k steps back at a few lags,
what to try) for the last step measured, the weights the training reached. A failed step
after it (nothing measured) is named, not read.

Where the verdict's curve had another horizon at the first step measured, one sentence says
so, with the horizons of the section "Over training"'s "From step … to step …" line
(:func:`.monitor_training.first_and_last`): nothing is fitted or read again here.
"""

from __future__ import annotations

from ...sweep.progress import plural
from ...sweep.schema import MONITOR_STEP
from ...sweep.section_names import LONG_DEPS, TRAINING
from ..model import Section
from ..view import RunView
from .long_deps import long_deps_answer
from .monitor_steps import step_gate_memory, steps_frame
from .monitor_table import step_horizon
from .monitor_training import first_and_last, fits_by_curve, measured_span
from .trained import architecture, curve_fits, curve_label, num_layers

__all__ = ["LONGER_PROBE", "MEASURE_PROBE", "monitor_long_deps_section"]

#: How the verdict says to measure more lags here: the probe's T is the monitor's, and the
#: analysed page's "analyze a longer sequence" was no remedy for it.
LONGER_PROBE = "give JacobianMonitor a longer probe (more time steps)"
#: How its table says to measure a lag past those its line is continued to.
MEASURE_PROBE = "measure with a probe of {} steps"


def monitor_long_deps_section(view: RunView) -> Section | None:
    """The long-dependencies answer at the last measured step; None where none was measured."""
    by_curve = fits_by_curve(view)
    span = measured_span(by_curve)
    if span is None:
        return None
    first, last = span
    results, fits = view.results, curve_fits(view, (MONITOR_STEP,))
    at_last = (results[MONITOR_STEP] == last).to_numpy(dtype=bool)
    answer = long_deps_answer(
        results[at_last],
        fits[(fits[MONITOR_STEP] == last).to_numpy(dtype=bool)],
        architecture(view),
        num_layers(view),
        measured_on=f"the probe at step {last}, {_which(view, last)}",
        held="the probe holds",
        rates_in=TRAINING.title if view.shows(TRAINING.key) else None,
        longer=LONGER_PROBE,
        measure=MEASURE_PROBE,
        memory=step_gate_memory(view, last),
    )
    if answer is None:
        return None
    verdict = answer.verdict
    pair = first_and_last(by_curve, answer.curve, span) if first != last else None
    if pair is not None and step_horizon(pair[0]) != step_horizon(pair[1]):
        label = curve_label(*answer.curve, num_layers(view))
        verdict += (
            f" Over training, the {label} curve's horizon went from {step_horizon(pair[0])} at "
            f"step {first} to {step_horizon(pair[1])} at step {last}."
        )
    return Section(LONG_DEPS.key, LONG_DEPS.title, verdict, answer.blocks, in_short=True)


def _which(view: RunView, last: int) -> str:
    """Which step ``last`` is: "the last step recorded", or "the last step measured (the 2
    steps recorded after it failed)"."""
    steps = steps_frame(view)
    failed = (steps[MONITOR_STEP] > last) & (steps["status"] != "ok") if len(steps) else []
    later = int(sum(failed))
    if not later:
        return "the last step recorded"
    return f"the last step measured ({plural(later, 'step')} recorded after it failed)"
