"""The decoder's output projection in float32 when the rest of the model runs in bf16/fp16.

Beam search ranks hypotheses by summed token log-probabilities, and the CTC prefix scores
(:mod:`model.ctc_prefix`) are added to them. Logits that leave a bf16 matmul carry only 8
bits of mantissa (steps of 0.06 at a logit of 10), plus whatever the CPU's bf16 kernel adds:
without native bf16 instructions (oneDNN's AVX2 path) the bundled model reads
``e^{i\\pi}+1=0`` at 120 dpi as ``e^{i\\pi+1}=0``, with the projection in float32 it reads it
right on every CPU. The projection is one (hidden x vocabulary) matmul per token, so float32
costs next to nothing; everything else keeps the fast dtype.
"""

from __future__ import annotations

import torch
from torch import nn


class Float32Linear(nn.Linear):
    """An ``nn.Linear`` that computes in float32 and returns float32, whatever its weight's
    dtype. It shares the weight it replaces, so tied embeddings stay tied."""

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        bias = None if self.bias is None else self.bias.float()
        return nn.functional.linear(hidden.float(), self.weight.float(), bias)


def use_float32_logits(model) -> bool:
    """Swap ``model``'s output projection for a :class:`Float32Linear` on the same
    parameters, in place; False when there is nothing to do (already float32, or the
    projection is not a plain ``nn.Linear``, e.g. quantized)."""
    head = model.get_output_embeddings()
    if type(head) is not nn.Linear or head.weight.dtype == torch.float32:
        return False
    replacement = Float32Linear(head.in_features, head.out_features,
                                bias=head.bias is not None, device="meta")
    replacement.weight = head.weight
    if head.bias is not None:
        replacement.bias = head.bias
    model.set_output_embeddings(replacement)
    return True
