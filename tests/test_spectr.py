"""SpecTr (nbs/spec/29a_spectr.ipynb) is lossless: K-SEQ's output law is the target's at one node and end to end through
`generate` (exact enumeration on a float64 Llama pair with a 6-token vocabulary), a χ² goodness-of-fit test on sampled
generations passes, and both tests reject a verifier that skips K-SEQ's correction. Greedy decoding is token-identical."""
import math

import pytest
import torch
from scipy.stats import chisquare

from specnb.core import SampledDraws, SpecnbError, exact_distribution, total_variation
from conftest import PROMPT6, V6
from specnb.decode import (DraftModelDrafter, HFTarget, Proposal, SamplingConfig, StaticTree, first_step_law, generate,
                           sequence_law)
from specnb.sampling import acceptance_rate, residual_distribution
from specnb.spec.spectr import (KSequences, SpecTrVerifier, kseq, kseq_acceptance, kseq_gap, ot_acceptance, rho_star,
                                solve_rho)

class NoCorrection(SpecTrVerifier):
    "WRONG on purpose: every draft tested with min(1, p/q) (ρ = 1, k > 1) and the one-draft residual."
    def select(self, p, q, candidates, draws):
        a = (p[candidates] / q[candidates]).clamp(max=1.0)
        n = int(draws.run_length(1 - a))
        return (n, int(candidates[n])) if n < len(candidates) else (-1, int(draws.categorical(residual_distribution(p, q))))


def spectr_law(target, draft, K, L, n, verifier, first_step=False, **s):
    """Exact law of n generated tokens. first_step: only the first step of generate is enumerated (its whole depth-L tree)
    and each outcome is completed with the target's exact law, so a 3-token run exercises the walk down to depth 2."""
    make = lambda: DraftModelDrafter(draft, policy=KSequences(K, L))
    if first_step: return first_step_law(target, PROMPT6, n, make, verifier, **s)
    with torch.no_grad():
        return exact_distribution(lambda d: tuple(generate(target, PROMPT6, make(), n, draws=d, eos_token_id=False, verifier=verifier, **s).tokens))


# (sampling settings, K, L, new tokens, first step only); a few seconds each on one core
CASES = {"T=1,K=2": (dict(temperature=1.0), 2, 2, 2, False),
         "T=0.7,top_k=2,K=3": (dict(temperature=0.7, top_k=2), 3, 2, 2, False),           # draft support 2 < K
         "T=0.7,top_k=2,K=3,depth2": (dict(temperature=0.7, top_k=2), 3, 2, 3, True),
         "T=1,top_p=0.6,K=3": (dict(temperature=1.0, top_p=0.6), 3, 2, 2, False),
         "T=0.8,top_k=3,top_p=0.9,K=2,depth2": (dict(temperature=0.8, top_k=3, top_p=0.9), 2, 2, 3, True)}


@pytest.mark.parametrize("case", CASES)
def test_spectr_samples_exactly(tiny_pair, case):
    target, draft = tiny_pair
    s, K, L, n, first = CASES[case]
    dist = spectr_law(target, draft, K, L, n, SpecTrVerifier(), first, **s)
    tv = total_variation(dist, sequence_law(target, PROMPT6, n, **s))
    assert tv < 1e-12, f"SpecTr {case}: total variation {tv:.3g} from the target's law of the first {n} tokens"


def test_exact_test_rejects_a_wrong_verifier(tiny_pair):
    target, draft = tiny_pair
    s = dict(temperature=1.0, top_p=0.6)
    tv = total_variation(spectr_law(target, draft, 2, 2, 2, NoCorrection(), **s), sequence_law(target, PROMPT6, 2, **s))
    assert tv > 0.05, tv


def chi2_pvalue(target, draft, verifier, n_runs, K=3, **s):
    law = sequence_law(target, PROMPT6, 2, **s)
    keys = sorted(law)
    counts = dict.fromkeys(keys, 0)
    with torch.no_grad():
        for sd in range(n_runs):
            out = tuple(generate(target, PROMPT6, DraftModelDrafter(draft, policy=KSequences(K, 2)), 2, seed=sd,
                                 eos_token_id=False, verifier=verifier, **s).tokens)
            assert out in counts, f"{out} has probability 0 under the target"
            counts[out] += 1
    return chisquare([counts[k] for k in keys], [n_runs * law[k] for k in keys]).pvalue


def test_chi2_through_generate(tiny_pair):
    "Sampled draws (the seeds 0..N-1, fixed): SpecTr fits the target's law of the first 2 tokens; the uncorrected walk does not."
    target, draft = tiny_pair
    s = dict(temperature=1.0, top_p=0.6)
    assert chi2_pvalue(target, draft, SpecTrVerifier(), 1500, **s) > 1e-3
    assert chi2_pvalue(target, draft, NoCorrection(), 1500, **s) < 1e-3


def test_greedy_token_identical(tiny_pair):
    target, draft = tiny_pair
    with torch.no_grad():
        for prompt in (PROMPT6, [0, 2], [5, 5, 1, 0, 2, 4, 3]):
            ref = generate(target, prompt, None, 12, eos_token_id=False).tokens
            for K in (1, 3):
                g = generate(target, prompt, DraftModelDrafter(draft, policy=KSequences(K, 3)), 12, eos_token_id=False,
                             verifier=SpecTrVerifier())
                assert g.tokens == ref and g.trace.steps < 12


def test_kseq_single_node_exact():
    "All (X_1, X_2, X_3) ∈ V^3 with their q-probabilities: K-SEQ's output law is p, also for small and disjoint supports."
    g = torch.Generator().manual_seed(3)
    f64 = lambda *x: torch.tensor(x, dtype=torch.float64)
    pairs = [(torch.rand(5, generator=g, dtype=torch.float64) ** 3, torch.rand(5, generator=g, dtype=torch.float64) ** 3) for _ in range(4)]
    pairs += [(f64(0.1, 0.2, 0.3, 0.2, 0.2), f64(0.6, 0.4, 0, 0, 0)), (f64(0, 0, 0, 0.3, 0.7), f64(0.5, 0.5, 0, 0, 0)),
              (f64(0.2, 0.2, 0.2, 0.2, 0.2), f64(0.2, 0.2, 0.2, 0.2, 0.2))]
    for p, q in pairs:
        p, q = p / p.sum(), q / q.sum()
        d = exact_distribution(lambda dr: kseq(p, q, dr.categorical(q.expand(3, -1)), dr)[1])
        law = torch.tensor([d.get(i, 0.0) for i in range(5)], dtype=torch.float64)
        assert (law - p).abs().max() < 1e-12, (p, q, law)


def test_rho_star_solves_the_equation():
    g = torch.Generator().manual_seed(4)
    for V in (3, 40, 500):
        p = torch.softmax(3 * torch.randn(16, V, generator=g, dtype=torch.float64), -1)
        q = torch.softmax(3 * torch.randn(16, V, generator=g, dtype=torch.float64), -1)
        for k in (1, 2, 4, 8):
            r = solve_rho(p, q, k)
            assert kseq_gap(p, q, r, k).abs().max() < 1e-9
            assert all(abs(rho_star(p[i], q[i], k) - float(r[i])) < 1e-9 for i in range(16))
        assert (solve_rho(p, q, 1) == 1).all()
        assert torch.allclose(kseq_acceptance(p, q, 1), acceptance_rate(p, q), atol=1e-12)


def test_kseq_against_the_optimal_transport():
    g = torch.Generator().manual_seed(5)
    for V, k in [(2, 2), (3, 2), (3, 3), (4, 2)]:
        for _ in range(3):
            p = torch.rand(V, generator=g, dtype=torch.float64) ** 2; p /= p.sum()
            q = torch.rand(V, generator=g, dtype=torch.float64) ** 2; q /= q.sum()
            ot, ks = ot_acceptance(p, q, k), float(kseq_acceptance(p, q, k))
            assert (1 - 1 / math.e) * ot - 1e-7 <= ks <= ot + 1e-7
            assert ks >= float(acceptance_rate(p, q)) - 1e-12


def test_bad_proposals_are_refused(tiny_pair):
    target, draft = tiny_pair
    dr = DraftModelDrafter(draft, policy=KSequences(3, 2))
    dr.start(PROMPT6, HFTarget(target), SamplingConfig(1.0), SampledDraws(seed=1))
    with torch.no_grad(): prop = dr.propose(PROMPT6)
    logits = torch.randn(len(prop.tree), V6, dtype=torch.float64)
    with pytest.raises(SpecnbError, match="proposal.tags"):
        SpecTrVerifier()(Proposal(prop.tree, prop.draft_probs, True, None), logits, SamplingConfig(1.0), SampledDraws(0))
    st = DraftModelDrafter(draft, policy=StaticTree([[0], [1], [0, 0]], replacement=True))
    st.start(PROMPT6, HFTarget(target), SamplingConfig(1.0), SampledDraws(seed=1))
    with torch.no_grad(): sp = st.propose(PROMPT6)
    with pytest.raises(SpecnbError, match="not SpecTr draft counts"):
        SpecTrVerifier()(sp, torch.randn(len(sp.tree), V6, dtype=torch.float64), SamplingConfig(1.0), SampledDraws(0))
    with pytest.raises(SpecnbError, match="k >= 1"):
        KSequences(0, 2)
