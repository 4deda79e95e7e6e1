"""RNN, LSTM and GRU side by side: one figure of decay curves and one table of rates.

Shown when a run sweeps the ``model`` axis. Each model is one line (an ``nn.RNN`` one line per
activation): the top layer's state rows log10 ||dh_T / ds_{T-k}|| (for an LSTM s = [h | c], so
lag 0 is ||[I | 0]||, the same as an RNN's ||I||; README, "Gated cells"; captions write ds only
in a run with LSTM cells), mean over seeds, against the lag k. Titles and captions name the
models the run has measured cells of. One panel per setting of the other swept axes, so that the
models are compared at the same hidden size, depth, sequence length and init; a column per value
of the last swept axis where every setting of the others has each (:func:`_columns`). The table
gives, per model and setting (a block of rows per model, as every table of settings orders its
rows: :meth:`..view.RunView.table_order`), the fitted decay rate (natural log per step, mean +-
standard deviation over seeds), the horizon (the lag where the norm has fallen 1000-fold) and
what theory predicts. Gated cells have no theory here: the mean field and the linear regime are
those of ``nn.RNN``, and Gilboa et al. (2019)'s mean field of LSTMs and GRUs is not covered, so
a gated row never shows a prediction and no overlay is drawn for it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...core.cells import RNN_THEORY_MODELS
from ...sweep.prediction import NO_GATED_THEORY
from ...sweep.section_names import DECAY, MODELS, RATES, THEORY
from ...sweep.summary_fields import diverges_meaning
from ..format import (
    LAG_LABEL,
    MAX_COLUMNS,
    NUMERIC_AXES,
    and_list,
    hashable,
    label,
    model_text,
    plural,
    rate_text,
    setting_titles,
    table_texts,
)
from ..layout import ZERO_NOTE, grid_rows, omitted, seed_stats, select, thin
from ..line_style import MAX_NAMED_PANELS, with_rim_note
from ..model import Curve, LineGrid, LinePanel, Section, Table
from ..predicted import kinds_of, mean_of, no_prediction, shared_reasons, shared_reasons_caption
from ..view import RunView
from .rate_cells import (
    HORIZON_FOLD,
    exact_zero_note,
    exact_zero_rates,
    horizon_cell,
    horizon_median_note,
    rate_cell,
    spread_digits,
    whose_jacobian,
)
from .rate_heatmaps import NOT_YET, absent_reason, init_scopes
from .setting_fits import top_setting_fits

__all__ = ["MAX_PANELS", "models_section"]

MAX_PANELS = 12
"""At most this many settings get a panel; the rest are named in the figure's note."""
_MODEL = "model"
_NO_THEORY = "— (no theory for gated cells)"
#: The summary's flag of a relu cell whose activity diverges (:data:`FLAGS`): the theory table
#: lists it beside the prediction; this table says it after the prediction.
_DIVERGES = "diverges"


def _settings(view: RunView) -> list[str]:
    return [c for c in view.varying if c not in (_MODEL, "activation", "seed")]


def _mean_curves(view: RunView, keys: list[str]) -> pd.DataFrame:
    """Seed means of the top layer's state curves, per (setting, line, lag), as the decay
    curves take them (:func:`..layout.seed_stats`): ``y`` the mean of the seeds whose mean
    log10 is finite, ``zero`` where some sample's Jacobian is exactly zero."""
    top = view.top_state
    frame = top.assign(
        line=[model_text(m, a) for m, a in zip(top[_MODEL], top["activation"], strict=True)]
    )
    return seed_stats(frame, [*keys, "line"], "log10_fro_mean", "log10_fro_std")


def _columns(combos: list[tuple[object, ...]]) -> int:
    """How many columns the panels of these settings (in reading order) run in: one column per value
    of the last swept axis (at most :data:`~..format.MAX_COLUMNS`) where every setting of the
    others has each of them, so that a row is one setting and a column one value, as the decay
    curves lay them out; else three to a row. A gated run's four inits ran on three to a row:
    its rows read ``T = 50: default, forget_bias, chrono``, then ``T = 50: orthogonal | T =
    100: default, forget_bias``, and no column was one init."""
    if combos and len(combos[0]) > 1:
        values = list(dict.fromkeys(hashable(c[-1]) for c in combos))
        rows = list(dict.fromkeys(tuple(hashable(v) for v in c[:-1]) for c in combos))
        # ``combos`` run in display order, the last axis fastest: a whole grid is rows x values
        if 1 < len(values) <= MAX_COLUMNS and len(combos) == len(rows) * len(values):
            return len(values)
    return min(3, max(1, len(combos)))


def _figure(view: RunView, keys: list[str], lines: list[str]) -> LineGrid:
    curves = _mean_curves(view, keys)
    settings = view.setting_order(curves[keys].drop_duplicates(), keys) if keys else None
    combos = [()] if settings is None else list(settings.itertuples(index=False, name=None))
    ncols = _columns(combos)
    cap = max(MAX_PANELS // ncols, 1) * ncols  # whole rows
    panels: list[LinePanel] = []
    # the drawn and the left out told apart (input_std 1.00001 and 1.00002 left out were
    # both "input std = 1")
    titles = setting_titles([zip(keys, c, strict=True) for c in combos])
    for i, combo in enumerate(combos[:cap]):
        rows = curves
        for k, v in zip(keys, combo, strict=True):
            rows = rows[(rows[k] == v).to_numpy(dtype=bool)]
        panel_curves = []
        for style, name in enumerate(lines):
            c = rows[(rows["line"] == name).to_numpy(dtype=bool)].sort_values("lag")
            if not len(c):
                continue
            idx = thin(len(c))
            y = c["y"].to_numpy(dtype=np.float64)
            x = c["lag"].to_numpy(dtype=np.float64)
            floor = x[c["zero"].to_numpy(dtype=bool)]
            panel_curves.append(Curve(name, style, x[idx], y[idx], floor_x=floor[thin(len(floor))]))
        title = titles[i] if keys else "all cells"
        panels.append(LinePanel(i // ncols, i % ncols, title, tuple(panel_curves)))
    left = titles[cap:]
    drawn = [dict(zip(keys, combo, strict=True)) for combo in combos[:cap]]
    return with_rim_note(
        LineGrid(
            title=f"{and_list(view.models_measured)} side by side",
            caption=(
                "The log10 Frobenius norm of the top layer's state Jacobian "
                f"{view.state_jacobian()} against the lag k, one line per model"
                + (" (an RNN one per activation)" if "RNN" in view.models_measured else "")
                + f", {view.over_seeds()}; one panel per setting of the other swept axes. "
                "Measurements only: this figure draws no theory"
                + _theory_elsewhere(view)
                + "."
                + (ZERO_NOTE if any(len(c.floor_x) for p in panels for c in p.curves) else "")
                + _missing_note(view, drawn, [p.title for p in panels], lines)
                + view.state_note
                + view.failed_note
            ),
            nrows=grid_rows(len(panels), ncols),
            ncols=ncols,
            panels=tuple(panels),
            xlabel=LAG_LABEL,
            ylabel=view.state_label(),
            legend_title="model",
            legend=tuple(lines),
            note=omitted(0, left, keys, table="the table below"),
        )
    )


def _theory_elsewhere(view: RunView) -> str:
    """Where the theory this figure leaves out is: the nn.RNN's predicted slopes in the decay
    curves (where the page has them), none for gated cells (no mean field of them is covered)."""
    parts = []
    if "RNN" in view.models_measured and view.shows(DECAY.key):
        parts.append(f"the RNN's predicted slopes, where a theory applies, are in {DECAY.title}")
    if view.gated:
        parts.append(
            f"{view.gated} cells have none (Gilboa et al. 2019's mean field of gated cells is "
            "not covered)"
        )
    return "; " + "; ".join(parts) if parts else ""


def _missing_note(
    view: RunView, settings: list[dict[str, object]], titles: list[str], lines: list[str]
) -> str:
    """The caption's sentence on the panels (their ``settings``, ``titles``) without some
    model's line because the run has no cell of that model at their setting, failed or not
    (failed settings are the failed note's; in an unfinished run's grid, a cell not measured
    yet: :func:`.rate_heatmaps.absent_reason`): which models a panel lacks and why, in the words
    of the rate heatmaps' hatched squares (:func:`.rate_heatmaps.init_scopes`). "" when none
    lacks one, or when the run's cells are not at hand."""
    cells = view.cells
    if not len(cells) or any(k not in cells for k in (*(settings[0] if settings else ()), _MODEL)):
        return ""
    if "activation" not in cells:
        cells = cells.assign(activation=None)
    # (whether an init does not apply, the lines lacking) -> where: the inits that do not
    # apply, or the titles of the panels whose combinations were not swept
    lacking: dict[tuple[bool, str], list[str]] = {}
    reasons: set[str] = set()
    for where, title in zip(settings, titles, strict=True):
        here = select(cells, where.items())
        present = {model_text(m, a) for m, a in zip(here[_MODEL], here["activation"], strict=True)}
        missing: dict[str, list[str]] = {}
        for name in lines:
            if name not in present:
                model = name.split(" ")[0]
                why = absent_reason(view, {**where, _MODEL: model})
                missing.setdefault(why, []).append(name)
        for why, names in missing.items():
            reasons.add(why)
            by_init = why not in ("", NOT_YET)
            group = lacking.setdefault((by_init, _line_names(names, lines)), [])
            at = why if by_init else title
            if at not in group:
                group.append(at)
    if not lacking:
        return ""
    parts = []
    for (by_init, names), where_ in lacking.items():
        if by_init:
            parts.append(f"no {names} line at init = {' or '.join(where_)}")
        else:
            # named one by one up to the captions' cap (line_style), past it the rest counted
            more = len(where_) - MAX_NAMED_PANELS
            named = "; ".join(where_[:MAX_NAMED_PANELS]) + (f" and {more} more" if more > 0 else "")
            parts.append(f"no {names} line in {plural(len(where_), 'panel')} ({named})")
    return (
        " A panel without a model's line is a combination the run has no cell of "
        f"({init_scopes(reasons)}), not a failed setting: " + "; ".join(parts) + "."
    )


def _line_names(names: list[str], lines: list[str]) -> str:
    """The lines ``names`` as a caption names them: a model whose every line is among them
    by its name (RNN), others by their line ("rnn (relu)"), joined by "or"."""
    out: list[str] = []
    for model in dict.fromkeys(n.split(" ")[0] for n in names):
        own = [n for n in lines if n.split(" ")[0] == model]
        out += [model.upper()] if all(n in names for n in own) else [n for n in own if n in names]
    return " or ".join(out)


def _table(view: RunView, keys: list[str], lines: list[str]) -> Table:
    fits = view.top_fits
    theory = view.theory.set_index("cell_id")
    # The rate and horizon of a setting as the rates table writes them (seeds at -inf counted
    # apart, horizons at exact zeros marked): one aggregate, merged back onto its cells.
    per_setting = top_setting_fits(view)
    records = per_setting.to_dict("records")
    texts = per_setting.assign(
        rate_text=[rate_cell(r) for r in records],
        horizon_text=[horizon_cell(r) for r in records],
    )
    on = [c for c in view.setting_columns if c in fits]
    fits = fits.merge(texts[[*on, "rate_text", "horizon_text"]], on=on, how="left")
    frame = fits.assign(
        line=[model_text(m, a) for m, a in zip(fits[_MODEL], fits["activation"], strict=True)],
        predicted_by=fits["cell_id"].map(theory["predicted_by"]),
        predicted_rate=fits["cell_id"].map(theory["predicted_rate"]),
        predicted_note=fits["cell_id"].map(theory["note"]),
        diverges=fits["cell_id"].map(theory["flag"]).map(_flagged_diverging),
    )
    rank = {name: i for i, name in enumerate(lines)}
    rows: list[tuple[str, ...]] = []
    # Iterated, a grouping by a list gives tuple keys even for one column (``.groups`` gave a
    # scalar for a run whose only swept axis is the model, with a deprecation warning).
    groups = dict(list(frame.groupby([*keys, "line"], sort=False, dropna=False)))
    pos: dict[tuple[object, ...], int] = {}
    if keys:
        settings = view.table_order(frame[keys].drop_duplicates(), keys)
        pos = {tuple(r): i for i, r in enumerate(settings.itertuples(index=False, name=None))}
    # Group keys are tuples (setting..., line). The page's one row order (RunView.table_order):
    # the model first, its line (an RNN's one per activation) in the legend's order, then the
    # settings in the columns' order; a model's rows are one block.
    order = sorted(groups, key=lambda g: (rank.get(g[-1], 0), pos.get(tuple(g[:-1]), 0)))
    notes = {g: groups[g]["predicted_note"].dropna().head(1).squeeze() for g in order}
    # A reason for no prediction that rows share is said once in the caption, not in each.
    shared = shared_reasons(
        n for g, n in notes.items() if groups[g][_MODEL].iloc[0] in RNN_THEORY_MODELS
    )
    marked = False  # some prediction is of cells that diverge
    for g in order:
        sub = groups[g]
        name = g[-1]
        model = sub[_MODEL].iloc[0]
        by = sub["predicted_by"].dropna()
        pr = mean_of(sub["predicted_rate"].to_numpy(dtype=np.float64))
        if model not in RNN_THEORY_MODELS:
            predicted = _NO_THEORY
        elif len(by) and (by != "none").any() and not np.isnan(pr):
            # −∞ at relu's origin, as theory's; past relu's critical gain the theory table's
            # flag, which a finite rate alone did not say
            diverges = bool(sub["diverges"].any())
            marked |= diverges
            # Seeds of different theories each counted ("linear (6 of 8 seeds), mean field
            # (2)"), not the first seed's kind beside the mean of both.
            kinds = kinds_of(by)
            predicted = f"{rate_text(pr)} ({kinds}{'; ' + _DIVERGES if diverges else ''})"
        else:  # the theory table's dash, with the reason its notes give
            predicted = no_prediction(notes[g], shared)
        cell = sub.iloc[0]
        rows.append((str(name), cell["rate_text"], cell["horizon_text"], predicted))
    # Each setting column told apart over the rows listed (format.table_texts)
    settings = table_texts([dict(zip(keys, g[:-1], strict=True)) for g in order], keys)
    rows = [(r[0], *s, *r[1:]) for r, s in zip(rows, settings, strict=True)]
    # The model first, as every other table with a model column and every figure title
    # (format.setting_text) put it, and its rows grouped by it (the figure above puts the
    # models side by side, one panel per setting).
    columns = ("model", *(label(k) for k in keys), "rate (ln/step)", "horizon", "predicted rate")
    return Table(
        title="Rates and horizons by model",
        caption=(
            "The fitted decay rate of the top layer's state curve (ln per step, "
            + view.over_seeds("mean ± standard deviation")
            + spread_digits(view.seeds)
            + (f"; as in {RATES.title}). " if view.shows(RATES.key) else "). ")
            + exact_zero_rates(view.seeds)
            + f"The horizon: the lag where the norm has fallen {HORIZON_FOLD} ("
            + horizon_median_note("'> n'", view.seeds)
            + "; "
            + exact_zero_note(whose_jacobian(view.seeds))
            + "). Last, the predicted rate with its theory ('—' where none applies, with the "
            "reason"
            + (
                ", or alone where rows share it, given here once). "
                + f"{shared_reasons_caption(shared)} "
                if shared
                else "). "
            )
            + (_diverges_note(view) if marked else "")
            + f"{view.gated} rows have no theory: {NO_GATED_THEORY}."
            + view.failed_table_note
        ),
        columns=tuple(columns),
        rows=tuple(rows),
        numeric=(False, *(k in NUMERIC_AXES for k in keys), True, True, False),
        # "rnn (tanh)" broke over two lines beside the wide last column, "21 (exact 0)" too
        nowrap=(columns.index("model"), columns.index("horizon")),
        asides=(columns.index("rate (ln/step)"),),  # its seeds counted apart, as the rates'
    )


def _flagged_diverging(flags: object) -> bool:
    """Whether a cell's summary flags (``"diverges,non-iid"``) hold :data:`_DIVERGES`."""
    return isinstance(flags, str) and _DIVERGES in flags.split(",")


def _diverges_note(view: RunView) -> str:
    """The caption's words on a prediction marked as diverging: the theory table's flag, whose
    "the note says which" (gain) pointed at notes this table has not: the theory table's, where
    the page shows it."""
    theory = view.shows(THEORY.key)
    where = f" in {THEORY.title}" if theory else ""
    which = ", which that table's notes give" if theory else ""
    said = diverges_meaning(which)
    return f"'{_DIVERGES}' after a prediction is the flag{where} of that name: {said}. "


def gate_note(view: RunView) -> str:
    """Why a gated cell at PyTorch's default init forgets about as fast as a tanh RNN: its
    gate's bias sets its horizon (docs/gated.md), said where the run has gated cells; ""
    where it has none. An LSTM that "does not forget" was what a reader expected. The tanh
    RNN it is compared with is "the table"'s only where the run has measured one: an LSTM and
    GRU run (docs/gated.md's gate-inits), or one beside a relu RNN alone, has none there."""
    gates = [
        gate
        for model, gate in (("LSTM", "an LSTM's forget gate f"), ("GRU", "a GRU's update gate z"))
        if model in view.models_measured
    ]
    if not gates:
        return ""
    top = view.top_state
    tanh_rnn = bool(((top[_MODEL] == "rnn") & (top["activation"] == "tanh")).any())
    where = (
        " (the table)"
        if tanh_rnn
        else ", which this run has not measured (README, 'RNN, LSTM and GRU side by side', "
        "adds one to a run)"
    )
    return (
        f" A gated cell keeps its old state only as far as its gate is open ({and_list(gates)}): "
        "with small weights the gate is about sigmoid of its bias. PyTorch's default init draws "
        "that bias near 0, so the gate is about half open: with small weights the gradient "
        "would fall by about ln ½ = −0.69 per step, and the weights' own terms make it less "
        f"steep, but of the order of a tanh RNN's{where}. The inits forget_bias (bias 1) and "
        "chrono (bias ln u, u up to T_max) open it and set a longer horizon (docs/gated.md)."
    )


def models_section(view: RunView) -> Section | None:
    """The side-by-side view of a run that sweeps ``model``; None for a one-model run."""
    if _MODEL not in view.varying or not len(view.top_state) or not len(view.top_fits):
        return None
    if len(view.models_measured) < 2:  # the cells of the other models all failed
        return None
    keys = _settings(view)
    top = view.top_state
    labels = {model_text(m, a) for m, a in zip(top[_MODEL], top["activation"], strict=True)}
    models = view.values(_MODEL)
    # An RNN's lines in the run's activation order (tanh before relu where the run gave them
    # so), as the rates' heatmaps and tables put them, not alphabetically.
    acts = {model_text("rnn", a): i for i, a in enumerate(view.values("activation"))}
    ordered = sorted(labels, key=lambda name: (acts.get(name, len(acts)), name))
    lines = [name for m in models for name in ordered if name == m or name.startswith(f"{m} (")]
    names = view.models_measured
    return Section(
        key=MODELS.key,
        title=and_list(names),
        intro=(
            f"The same settings measured on {and_list([f'nn.{n}' for n in names])}: how far back "
            "each model's last state still depends on its earlier states, at matched hidden "
            f"size.{gate_note(view)}"
        ),
        blocks=(_figure(view, keys, lines), _table(view, keys, lines)),
    )
