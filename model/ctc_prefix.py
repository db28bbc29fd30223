"""Joint CTC/attention beam search: the encoder's CTC head scores tokens inside ``generate``.

The bundled model's encoder learned a CTC loss (:mod:`model.ctc_head`), so besides the
decoder's attention it gives a second, pixels-only opinion. As in hybrid CTC/attention
speech recognition (Watanabe et al., 2017), every candidate next token ``c`` of a
hypothesis ``g`` is scored

    log p_att(c | g) + weight x (log p_ctc(g + c ...) - log p_ctc(g ...))

where ``p_ctc(h ...)`` is the CTC probability that the image's frames begin with the
symbols of ``h`` (its prefix probability); end-of-sequence gets the probability that the
frames hold exactly ``g``. The increments add up, so a finished hypothesis scores
``log p_att + weight x log p_ctc``, and a beam that skips or invents symbols falls behind
while there is still room in the beam for a better one. On 300 im2latex test images
(seed-1 sample, 3 beams) against re-ranking the finished beams with the same two scores
(BLEU 0.705, edit distance 0.184), weight 0.3 scored 0.713 / 0.169 and the shipped 0.45,
the smallest that reads all the simple equations of ``tests/bundled`` exactly, 0.705 /
0.174 (README, ADR-004).

The prefix recursions (``r_n``: the prefix's last symbol still being emitted at frame t,
``r_b``: frame t blank) are linear in probability space, so each is one
``logcumsumexp`` over the frames instead of a loop. Only the ``pre_beam`` best candidates
by attention are scored (the others are ruled out), as in ESPnet. Ids below
``first_symbol_id`` other than end-of-sequence were never CTC targets (special tokens,
byte fall-backs): they leave the CTC state as it is. Torch only, never Qt; the
transformers ``LogitsProcessor`` wrapper is :func:`logits_processor`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers import LogitsProcessor, LogitsProcessorList

NEG_INF = float("-inf")
NO_SYMBOL = -1  # Hypotheses.last of a hypothesis that has no CTC symbol yet
DEFAULT_PRE_BEAM = 6  # twice the default beams; 10 read the same 300 test images alike
# Frames at either end whose blank probability is above 1 - 1e-4 are dropped before the
# search: the canvas pads a formula with white, and every dropped frame changes a prefix's
# probability by under 0.01 %, while the recursions' cost is linear in frames.
SURE_BLANK_LOG_PROB = -1e-4


@dataclass(frozen=True)
class Hypotheses:
    """CTC forward variables of a batch of hypotheses over the frames, in log space."""

    r_n: torch.Tensor  # (H, frames) log P(prefix, its last symbol is being emitted at t)
    r_b: torch.Tensor  # (H, frames) log P(prefix, frame t is blank)
    score: torch.Tensor  # (H,) log prefix probability of each hypothesis
    last: torch.Tensor  # (H,) its last CTC symbol, NO_SYMBOL if it has none yet

    @classmethod
    def empty(cls, blank_log_probs: torch.Tensor) -> Hypotheses:
        """Empty prefixes, from the blank's log-probabilities (H, frames): all blank."""
        r_b = blank_log_probs.cumsum(-1)
        count = r_b.shape[0]
        return cls(torch.full_like(r_b, NEG_INF), r_b,
                   torch.zeros(count, dtype=r_b.dtype),
                   torch.full((count,), NO_SYMBOL, dtype=torch.long))

    def full(self) -> torch.Tensor:
        """(H,) log P(the frames hold exactly this hypothesis)."""
        return torch.logaddexp(self.r_n[:, -1], self.r_b[:, -1])

    def take(self, index: torch.Tensor) -> Hypotheses:
        return Hypotheses(self.r_n[index], self.r_b[index], self.score[index],
                          self.last[index])


def _shifted(values: torch.Tensor, first: torch.Tensor | float) -> torch.Tensor:
    """``values`` moved one frame later along the last axis, ``first`` at frame 0."""
    pad = torch.empty_like(values[..., :1])
    pad[...] = first
    return torch.cat([pad, values[..., :-1]], dim=-1)


def _linear_recursion(start: torch.Tensor, emit: torch.Tensor) -> torch.Tensor:
    """Solve ``y_t = logaddexp(y_{t-1}, start_t) + emit_t`` (``y_{-1} = -inf``) at once.

    In probability space ``Y_t = sum_{s<=t} S_s prod_{u=s..t} E_u``; with ``C_t`` the
    cumulative sum of ``emit`` that is ``C_t + logcumsumexp_s(start_s - C_{s-1})``.
    Float64 keeps the large cumulative sums from eating the precision.
    """
    cumulative = emit.cumsum(-1)
    before = cumulative - emit  # C_{s-1}
    return cumulative + torch.logcumsumexp(start - before, dim=-1)


def extend(r_n: torch.Tensor, r_b: torch.Tensor, last: torch.Tensor,
           symbols: torch.Tensor, emit: torch.Tensor, blank_emit: torch.Tensor):
    """Forward variables and prefix scores of R hypotheses, each + each of K symbols.

    ``r_n``, ``r_b``: (R, frames); ``last``: (R,) (``NO_SYMBOL`` for an empty prefix);
    ``symbols``: (R, K) candidate ids; ``emit``: (R, K, frames) their log-probabilities;
    ``blank_emit``: (R, frames). Returns ``r_n``, ``r_b`` of shape (R, K, frames) and the
    prefix log-probabilities, (R, K).
    """
    # Where a new symbol may start at frame t: after the prefix ended at t-1, in blank, or
    # in its last symbol unless the new one repeats it (CTC needs a blank between).
    ended = torch.logaddexp(r_b, r_n)[:, None, :]
    repeats = (symbols == last[:, None])[..., None]
    phi = torch.where(repeats, r_b[:, None, :], ended)
    # Frame 0 can start the first symbol only: log 1 for an empty prefix, else log 0.
    first = torch.where(last == NO_SYMBOL, 0.0, NEG_INF).to(phi.dtype)[:, None, None]
    start = _shifted(phi, first.expand(*phi.shape[:2], 1))
    new_n = _linear_recursion(start, emit)
    new_b = _linear_recursion(_shifted(new_n, NEG_INF), blank_emit[:, None, :].expand_as(emit))
    return new_n, new_b, torch.logsumexp(start + emit, dim=-1)


def inked_frames(log_probs: torch.Tensor, blank: int) -> torch.Tensor:
    """``log_probs`` (images, frames, vocab) without the leading and trailing frames that
    are surely blank in every image (at least one frame stays)."""
    inked = (log_probs[..., blank] < SURE_BLANK_LOG_PROB).any(dim=0).nonzero().flatten()
    if not len(inked):
        return log_probs[:, :1]
    return log_probs[:, int(inked[0]):int(inked[-1]) + 1]


class PrefixScorer:
    """CTC prefix scores for the rows ``generate`` searches (``beams`` rows per image).

    Each step scores every row's ``pre_beam`` best candidates and keeps their states,
    indexed by the candidate's token ids, so beams that ``generate`` re-orders between
    steps find their own state again.
    """

    def __init__(self, log_probs: torch.Tensor, beams: int, weight: float, blank: int,
                 eos: int, first_symbol_id: int, pre_beam: int = DEFAULT_PRE_BEAM) -> None:
        # (images, vocab, frames): one id's log-probabilities over the frames, contiguous
        log_probs = inked_frames(log_probs, blank)
        self.emissions = log_probs.double().transpose(1, 2).contiguous()
        self.blank_log_probs = self.emissions[:, blank]  # (images, frames)
        self.beams = beams
        self.weight = weight
        self.eos = eos
        self.first_symbol_id = first_symbol_id
        self.pre_beam = pre_beam
        self.offered: Hypotheses | None = None  # the last step's candidates; None: first
        self.index: dict[tuple[int, ...], int] = {}  # their token ids -> row in offered

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        top = scores.topk(min(self.pre_beam, scores.shape[-1]), dim=-1).indices.cpu()
        prefixes = [tuple(row) for row in input_ids.tolist()]
        images = torch.arange(len(prefixes)) // self.beams
        parents, alive = self._parents(prefixes, images)
        emit = self.emissions[images[:, None], top]  # (rows, candidates, frames)
        r_n, r_b, prefix = extend(parents.r_n, parents.r_b, parents.last, top, emit,
                                  self.blank_log_probs[images])
        symbol = top >= self.first_symbol_id
        score = parents.score[:, None]
        # Gained CTC log-probability: the new prefix score less the old one; the whole
        # sequence's score for end-of-sequence; nothing for ids CTC never read.
        ending = torch.where(top == self.eos, parents.full()[:, None] - score, 0.0)
        increments = torch.where(symbol, prefix - score, ending)
        increments[~alive] = NEG_INF  # rows no candidate of the last step led to
        self._offer(prefixes, alive, top, parents, symbol, r_n, r_b, prefix)
        bonus = torch.full(scores.shape, NEG_INF, dtype=torch.float64)
        bonus.scatter_(1, top, increments)
        return scores + self.weight * bonus.to(scores.device, scores.dtype)

    def _parents(self, prefixes, images) -> tuple[Hypotheses, torch.Tensor]:
        """Each row's state, and which rows have one (all do on the first step)."""
        if self.offered is None:
            everyone = torch.ones(len(prefixes), dtype=torch.bool)
            return Hypotheses.empty(self.blank_log_probs[images]), everyone
        found = torch.tensor([self.index.get(key, -1) for key in prefixes])
        return self.offered.take(found.clamp(min=0)), found >= 0

    def _offer(self, prefixes, alive, top, parents, symbol, r_n, r_b, prefix) -> None:
        """Keep the states of the candidates just scored, for the next step to find. An
        id CTC never read leaves its parent's state as it was."""
        keep = symbol[..., None]
        self.offered = Hypotheses(
            torch.where(keep, r_n, parents.r_n[:, None]).flatten(0, 1),
            torch.where(keep, r_b, parents.r_b[:, None]).flatten(0, 1),
            torch.where(symbol, prefix, parents.score[:, None]).flatten(),
            torch.where(symbol, top, parents.last[:, None]).flatten(),
        )
        width = top.shape[1]
        self.index = {
            (*prefixes[row], token): row * width + k
            for row in alive.nonzero().flatten().tolist()
            for k, token in enumerate(top[row].tolist())
            if token != self.eos
        }


def logits_processor(scorer: PrefixScorer):
    """``scorer`` as a transformers ``LogitsProcessorList`` for ``generate``."""
    class _CtcPrefix(LogitsProcessor):
        def __call__(self, input_ids, scores):
            return scorer(input_ids, scores)

    return LogitsProcessorList([_CtcPrefix()])
