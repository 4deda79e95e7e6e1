"""The T of the long-dependencies section's "What to try" commands (:mod:`.long_deps`): where
the verdict names a length of dependency longer than half the page's T, twice that length, so
that the sweeps' reports measure lags up to it and past it (at the page's T = 8 under a verdict
of ~12 steps they could show no init reaching past it); capped so that the sweeps stay quick.
"""

from __future__ import annotations

__all__ = ["MAX_TRY_SEQ_LEN", "seq_len_words", "try_seq_len"]


#: The longest T "What to try" raises its commands' to (a page's own longer T is kept). The
#: three commands of a 2-layer nn.RNN(4, 16)'s page (114 cells, 2 shared cores) took 15 s at
#: T = 8, 18 s at 100, 30 s at 200 and 400 and 40 s at 800 (startup included).
MAX_TRY_SEQ_LEN = 400


def try_seq_len(page_t: int, lag: int | None) -> int:
    """The T of "What to try"'s commands: twice the verdict's length of dependency ``lag``, so
    that their reports measure lags up to it and past it, capped at :data:`MAX_TRY_SEQ_LEN`;
    never below the page's T (commands at T = 8 under a verdict of ~12 steps could not show an
    init reaching past it)."""
    return page_t if lag is None else max(page_t, min(2 * lag, MAX_TRY_SEQ_LEN))


def seq_len_words(page_t: int, seq_len: int, lag: int | None) -> str:
    """Why the commands' T is not the page's, where it is not."""
    if seq_len == page_t or lag is None:
        return ""
    if seq_len == 2 * lag:
        return (
            f" T = {seq_len} is twice the {lag} steps above, not this page's T = {page_t}: "
            "each report measures lags past that length."
        )
    return (
        f" T = {seq_len}, not this page's T = {page_t}, is the cap on these commands' T, "
        f"short of twice the {lag} steps above: a sweep's time grows with T."
    )
