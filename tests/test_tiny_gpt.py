"""The parts of ``examples/tiny_gpt.py``, each checked on its own, in seconds.

Causal self-attention sees the past only and agrees with PyTorch's attention on
the same weights; a block is a pre-norm residual; a GPT of one small block
learns a repeating text in a few dozen AdamW steps. (``test_examples_seq.py``
runs the whole example on real prose.) Needs numpy and torch only.
"""
from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import optim

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def gpt():
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("examples_tiny_gpt_parts", EXAMPLES / "tiny_gpt.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def _t(p):
    return torch.tensor(p.detach().numpy().astype(np.float64))


def _torch_attention(attn, x, n_head):
    """The same multi-head causal attention written with PyTorch, from ``attn``'s weights."""
    b, t, d = x.shape
    qkv = x @ _t(attn.qkv.weight).T + _t(attn.qkv.bias)
    q, k, v = (qkv[..., i * d:(i + 1) * d].reshape(b, t, n_head, d // n_head).transpose(1, 2) for i in range(3))
    heads = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    merged = heads.transpose(1, 2).reshape(b, t, d)
    return merged @ _t(attn.proj.weight).T + _t(attn.proj.bias)


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def test_causal_self_attention_matches_pytorch_on_the_same_weights(gpt):
    mg.manual_seed(0)
    attn = gpt.CausalSelfAttention(12, 3).to(mg.float64)
    x = _x(2, 5, 12)
    got = attn(mg.tensor(x)).detach().numpy()
    np.testing.assert_allclose(got, _torch_attention(attn, torch.tensor(x), 3).numpy(), rtol=1e-10, atol=1e-12)


def test_causal_self_attention_never_looks_at_later_positions(gpt):
    mg.manual_seed(1)
    attn = gpt.CausalSelfAttention(8, 2).to(mg.float64)
    x = _x(1, 6, 8, seed=1)
    later = x.copy()
    later[:, 4:] += 10.0  # change positions 4 and 5 only
    a, b = (attn(mg.tensor(v)).detach().numpy() for v in (x, later))
    np.testing.assert_allclose(a[:, :4], b[:, :4], rtol=1e-12, atol=1e-12)
    assert not np.allclose(a[:, 4:], b[:, 4:])


def test_a_block_adds_attention_then_the_mlp_each_to_its_own_normalised_input(gpt):
    mg.manual_seed(2)
    block = gpt.Block(8, 2).to(mg.float64)
    x = _x(2, 4, 8, seed=2)
    tx = torch.tensor(x)

    def ln(m, v):
        return torch.nn.functional.layer_norm(v, (8,), _t(m.weight), _t(m.bias), m.eps)

    first, second, act = block.mlp[0], block.mlp[2], torch.nn.GELU(approximate="tanh")
    after_attention = tx + _torch_attention(block.attn, ln(block.ln1, tx), 2)
    mlp_out = act(ln(block.ln2, after_attention) @ _t(first.weight).T + _t(first.bias)) @ _t(second.weight).T
    expected = after_attention + mlp_out + _t(second.bias)
    np.testing.assert_allclose(block(mg.tensor(x)).detach().numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_gpt_logits_at_a_position_depend_on_that_position_and_the_ones_before_only(gpt):
    mg.manual_seed(3)
    model = gpt.GPT(vocab=7, context=6, d_model=8, n_head=2, n_layer=1)
    idx = mg.tensor([[1, 2, 3, 4, 5, 6]])
    changed = mg.tensor([[1, 2, 3, 0, 0, 0]])
    a, b = model(idx).detach().numpy(), model(changed).detach().numpy()
    assert a.shape == (1, 6, 7)
    np.testing.assert_allclose(a[:, :3], b[:, :3], rtol=1e-6, atol=1e-7)
    assert not np.allclose(a[:, 3:], b[:, 3:])
    assert model.lm_head.weight is model.tok_emb.weight  # tied


def test_a_tiny_gpt_learns_a_repeating_text_in_sixty_adamw_steps(gpt):
    mg.manual_seed(4)
    rng = np.random.default_rng(4)
    data = np.array([0, 1, 2, 3, 4, 2, 1] * 40, dtype=np.int64)  # period 7: the next token is determined
    model = gpt.GPT(vocab=5, context=8, d_model=16, n_head=2, n_layer=1)
    opt = optim.AdamW(model.parameters(), lr=2e-2, weight_decay=0.0)
    losses = []
    for _ in range(60):
        x, y = gpt.batch(data, 8, 8, rng)
        loss = F.cross_entropy(model(x).reshape(-1, 5), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] > 0.8 * math.log(5)  # starts near the uniform guess
    assert np.mean(losses[-5:]) < 0.3, losses[::10]  # the first tokens of a window stay ambiguous
