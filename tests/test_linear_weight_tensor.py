"""vl.linear_rate and vl.origin_log_norms given a weight tensor with no values here (the meta
device) or of another layout (sparse): one TypeError that names W_hh, not torch's own."""

from __future__ import annotations

import pytest
import torch

import vanishlab as vl


@pytest.mark.parametrize(
    ("weight", "match"),
    [
        (torch.eye(3, device="meta"), r"^W_hh is on the meta device: it holds no values"),
        (torch.eye(3).to_sparse(), r"^W_hh must be a dense tensor, got layout torch.sparse_coo"),
    ],
    ids=["meta", "sparse"],
)
@pytest.mark.parametrize(
    "call", [vl.linear_rate, lambda w: vl.origin_log_norms(w, 3)], ids=["rate", "origin"]
)
def test_a_weight_tensor_without_values_or_of_another_layout_is_refused(call, weight, match):
    """Were NotImplementedError from torch: "Cannot copy out of meta tensor; no data!" and
    "Could not run 'aten::ne.Scalar' with arguments from the 'SparseCPU' backend"."""
    with pytest.raises(TypeError, match=match):
        call(weight)
    assert vl.linear_rate(torch.eye(3)) == 0.0  # a dense one as before
