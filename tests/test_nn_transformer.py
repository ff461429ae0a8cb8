"""Attention and Transformer layers against PyTorch in float64 (weights through ``load_state_dict``).

Outputs and the gradient of every parameter and input are compared under a random
cotangent. Dropout is 0 in the parity tests (the random masks differ); the layers'
dropout is tested on its own.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

F64 = np.float64


def _leaves(values):
    return ([torch.tensor(v, requires_grad=v.dtype.kind == "f") for v in values],
            [minigrad.tensor(v, requires_grad=v.dtype.kind == "f") for v in values])


def _compare(t_outs, m_outs, t_leaves, m_leaves, rng, t_mod=None, m_mod=None, atol=1e-10):
    t_loss, m_loss = 0, 0
    for a, b in zip(t_outs, m_outs):
        if a is None:
            assert b is None
            continue
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), atol=atol, rtol=1e-8)
        w = rng.standard_normal(tuple(a.shape))
        t_loss = t_loss + (a * torch.tensor(w)).sum()
        m_loss = m_loss + (b * minigrad.tensor(w)).sum()
    t_loss.backward()
    m_loss.backward()
    for a, b in zip(t_leaves, m_leaves):
        if a.requires_grad:
            assert np.isfinite(b.grad.numpy()).all()
            np.testing.assert_allclose(b.grad.numpy(), a.grad.numpy(), atol=atol, rtol=1e-8)
    if t_mod is not None:
        t_params = dict(t_mod.named_parameters())
        assert [n for n, _ in m_mod.named_parameters()] == list(t_params)
        for name, p in m_mod.named_parameters():
            np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), atol=atol, rtol=1e-8, err_msg=name)


@st.composite
def sdpa_cases(draw):
    lead = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=2)))
    length, source, e, ev = (draw(st.integers(1, 4)) for _ in range(4))
    kind = draw(st.sampled_from(["none", "causal", "bool", "float"]))
    return lead, length, source, e, ev, kind, draw(st.sampled_from([None, 0.3])), draw(st.integers(0, 2**16))


@settings(max_examples=25)
@given(case=sdpa_cases())
def test_scaled_dot_product_attention_matches_torch(case):
    lead, length, source, e, ev, kind, scale, seed = case
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(lead + (length, e)), rng.standard_normal(lead + (source, e)),
              rng.standard_normal(lead + (source, ev))]
    kw = {"scale": scale}
    t_leaves, m_leaves = _leaves(values)
    t_kw, m_kw = dict(kw), dict(kw)
    if kind == "causal":
        t_kw["is_causal"] = m_kw["is_causal"] = True
    elif kind == "bool":
        mask = rng.random((length, source)) < 0.6  # some rows end up fully masked
        t_kw["attn_mask"], m_kw["attn_mask"] = torch.tensor(mask), minigrad.tensor(mask)
    elif kind == "float":
        mask = np.where(rng.random((length, source)) < 0.3, -np.inf, rng.standard_normal((length, source)))
        t_kw["attn_mask"], m_kw["attn_mask"] = torch.tensor(mask), minigrad.tensor(mask)
    t_out = TF.scaled_dot_product_attention(*t_leaves, **t_kw)
    m_out = F.scaled_dot_product_attention(*m_leaves, **m_kw)
    _compare([t_out], [m_out], t_leaves, m_leaves, rng)


def test_fully_masked_rows_give_zeros_and_finite_gradients_as_torch(rng):
    values = [rng.standard_normal((2, 3, 4)) for _ in range(3)]
    mask = np.ones((3, 3), dtype=bool)
    mask[1] = False
    t_leaves, m_leaves = _leaves(values)
    t_out = TF.scaled_dot_product_attention(*t_leaves, attn_mask=torch.tensor(mask))
    m_out = F.scaled_dot_product_attention(*m_leaves, attn_mask=minigrad.tensor(mask))
    assert np.all(m_out.detach().numpy()[:, 1] == 0)
    _compare([t_out], [m_out], t_leaves, m_leaves, rng)


def test_grouped_query_attention_matches_torch(rng):
    values = [rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 2, 3, 5)), rng.standard_normal((2, 2, 3, 5))]
    t_leaves, m_leaves = _leaves(values)
    t_out = TF.scaled_dot_product_attention(*t_leaves, is_causal=True, enable_gqa=True)
    m_out = F.scaled_dot_product_attention(*m_leaves, is_causal=True, enable_gqa=True)
    _compare([t_out], [m_out], t_leaves, m_leaves, rng)


def test_attention_passes_gradcheck(rng):
    q, k, v = (minigrad.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    mask = minigrad.tensor(np.array([[True, False, True], [False, False, False], [True, True, True]]))
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=mask), [q, k, v])
    assert gradcheck(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True), [q, k, v])


def test_attention_dropout_zeroes_weights_and_rescales(rng):
    q = minigrad.tensor(np.zeros((1, 400, 1)))
    v = minigrad.tensor(np.ones((1, 400, 1)))
    minigrad.manual_seed(0)
    out = F.scaled_dot_product_attention(q, q, v, dropout_p=0.5)
    # uniform weights 1/400 kept with probability 1/2 and doubled: each row sums to ≈ 1
    assert abs(out.detach().numpy().mean() - 1.0) < 0.05
    assert out.detach().numpy().std() > 0.01


@st.composite
def mha_cases(draw):
    heads = draw(st.integers(1, 2))
    e = heads * draw(st.integers(1, 3))
    kw = {"batch_first": draw(st.booleans()), "bias": draw(st.booleans()),
          "add_bias_kv": draw(st.booleans()), "add_zero_attn": draw(st.booleans())}
    if draw(st.booleans()):
        kw["kdim"], kw["vdim"] = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    call = {"need_weights": draw(st.booleans()), "average_attn_weights": draw(st.booleans()),
            "self": "kdim" not in kw and draw(st.booleans()),
            "padding": draw(st.booleans()), "mask": draw(st.sampled_from(["none", "bool", "float", "3d"]))}
    return heads, e, kw, call, draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3)), \
        draw(st.integers(0, 2**16))


@settings(max_examples=25)
@given(case=mha_cases())
@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
def test_multihead_attention_matches_torch(case):
    heads, e, kw, call, batch, length, source, seed = case
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    tm = torch.nn.MultiheadAttention(e, heads, **kw).double()
    mm = nn.MultiheadAttention(e, heads, **kw, dtype=F64)
    mm.load_state_dict(tm.state_dict())
    if call["self"]:
        source = length

    def shaped(n, d):
        return (batch, n, d) if kw["batch_first"] else (n, batch, d)

    values = [rng.standard_normal(shaped(length, e))]
    if not call["self"]:
        values += [rng.standard_normal(shaped(source, kw.get("kdim", e))),
                   rng.standard_normal(shaped(source, kw.get("vdim", e)))]
    t_leaves, m_leaves = _leaves(values)
    t_args = t_leaves * 3 if call["self"] else t_leaves
    m_args = m_leaves * 3 if call["self"] else m_leaves
    t_kw = {"need_weights": call["need_weights"], "average_attn_weights": call["average_attn_weights"]}
    m_kw = dict(t_kw)
    # Keep the first key visible to every query: PyTorch gives NaN for fully masked rows when
    # need_weights=True (see test_fully_masked_rows_in_multihead_attention_give_zeros).
    if call["padding"]:
        pad = rng.random((batch, source)) < 0.5
        pad[:, 0] = False
        t_kw["key_padding_mask"], m_kw["key_padding_mask"] = torch.tensor(pad), minigrad.tensor(pad)
    if call["mask"] != "none":
        shape = (batch * heads, length, source) if call["mask"] == "3d" else (length, source)
        mask = rng.random(shape) < 0.5
        mask[..., 0] = False
        if call["mask"] != "bool":
            mask = np.where(mask, -np.inf, rng.standard_normal(shape))
        t_kw["attn_mask"], m_kw["attn_mask"] = torch.tensor(mask), minigrad.tensor(mask)
    t_out = tm(*t_args, **t_kw)
    m_out = mm(*m_args, **m_kw)
    _compare(t_out, m_out, t_leaves, m_leaves, rng, tm, mm)


def test_unbatched_multihead_attention_matches_torch(rng):
    tm = torch.nn.MultiheadAttention(4, 2).double()
    mm = nn.MultiheadAttention(4, 2, dtype=F64)
    mm.load_state_dict(tm.state_dict())
    t_leaves, m_leaves = _leaves([rng.standard_normal((3, 4)), rng.standard_normal((5, 4))])
    pad = np.array([False, True, False, False, True])
    t_out = tm(t_leaves[0], t_leaves[1], t_leaves[1], key_padding_mask=torch.tensor(pad))
    m_out = mm(m_leaves[0], m_leaves[1], m_leaves[1], key_padding_mask=minigrad.tensor(pad))
    _compare(t_out, m_out, t_leaves, m_leaves, rng, tm, mm)


def test_fully_masked_rows_in_multihead_attention_give_zeros(rng):
    """PyTorch's SDPA path (need_weights=False) gives 0 there; with need_weights=True it gives NaN, we give 0."""
    tm = torch.nn.MultiheadAttention(4, 2, batch_first=True).double()
    mm = nn.MultiheadAttention(4, 2, batch_first=True, dtype=F64)
    mm.load_state_dict(tm.state_dict())
    t_leaves, m_leaves = _leaves([rng.standard_normal((2, 3, 4))])
    pad = np.array([[True, True, True], [False, True, False]])
    t_out = tm(t_leaves[0], t_leaves[0], t_leaves[0], key_padding_mask=torch.tensor(pad), need_weights=False)
    m_out = mm(m_leaves[0], m_leaves[0], m_leaves[0], key_padding_mask=minigrad.tensor(pad), need_weights=False)
    _compare(t_out, m_out, t_leaves, m_leaves, rng, tm, mm)
    out, weights = mm(m_leaves[0], m_leaves[0], m_leaves[0], key_padding_mask=minigrad.tensor(pad))
    assert np.all(weights.detach().numpy()[0] == 0) and np.isfinite(out.detach().numpy()).all()


@st.composite
def layer_cases(draw):
    heads = draw(st.integers(1, 2))
    kw = {"batch_first": draw(st.booleans()), "norm_first": draw(st.booleans()),
          "activation": draw(st.sampled_from(["relu", "gelu"])), "bias": draw(st.booleans())}
    return heads, heads * draw(st.integers(1, 3)), kw, draw(st.integers(1, 3)), draw(st.integers(1, 4)), \
        draw(st.integers(1, 4)), draw(st.booleans()), draw(st.integers(0, 2**16))


@settings(max_examples=10)
@given(case=layer_cases())
def test_encoder_and_decoder_stacks_match_torch(case):
    heads, d, kw, batch, length, source, masks, seed = case
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    t_enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(d, heads, 5, 0.0, **kw), 2,
                                        enable_nested_tensor=False).double()
    t_dec = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(d, heads, 5, 0.0, **kw), 2,
                                        norm=torch.nn.LayerNorm(d)).double()
    m_enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(d, heads, 5, 0.0, **kw, dtype=F64), 2)
    m_dec = nn.TransformerDecoder(nn.TransformerDecoderLayer(d, heads, 5, 0.0, **kw, dtype=F64), 2,
                                  norm=nn.LayerNorm(d, dtype=F64))
    m_enc.load_state_dict(t_enc.state_dict())
    m_dec.load_state_dict(t_dec.state_dict())
    shaped = (lambda n: (batch, n, d)) if kw["batch_first"] else (lambda n: (n, batch, d))
    t_leaves, m_leaves = _leaves([rng.standard_normal(shaped(source)), rng.standard_normal(shaped(length))])
    t_kw, m_kw = {}, {}
    if masks:
        pad = rng.random((batch, source)) < 0.4
        pad[:, 0] = False
        causal = torch.nn.Transformer.generate_square_subsequent_mask(length, dtype=torch.float64)
        t_kw = {"src_key_padding_mask": torch.tensor(pad)}
        m_kw = {"src_key_padding_mask": minigrad.tensor(pad)}
        t_dkw = {"tgt_mask": causal, "memory_key_padding_mask": torch.tensor(pad), "tgt_is_causal": True}
        m_dkw = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(length, dtype=F64),
                 "memory_key_padding_mask": minigrad.tensor(pad), "tgt_is_causal": True}
    else:
        t_dkw, m_dkw = {}, {}
    t_mem = t_enc(t_leaves[0], **t_kw)
    m_mem = m_enc(m_leaves[0], **m_kw)
    t_out = t_dec(t_leaves[1], t_mem, **t_dkw)
    m_out = m_dec(m_leaves[1], m_mem, **m_dkw)
    _compare([t_out], [m_out], t_leaves, m_leaves, rng, t_dec, m_dec)
    t_params = dict(t_enc.named_parameters())
    for name, p in m_enc.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), atol=1e-10, rtol=1e-8, err_msg=name)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_full_transformer_matches_torch(rng):
    torch.manual_seed(0)
    tt = torch.nn.Transformer(4, 2, 1, 1, 6, dropout=0.0).double()
    mt = nn.Transformer(4, 2, 1, 1, 6, dropout=0.0, dtype=F64)
    assert [(k, tuple(v.shape)) for k, v in mt.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in tt.state_dict().items()]
    mt.load_state_dict(tt.state_dict())
    t_leaves, m_leaves = _leaves([rng.standard_normal((5, 2, 4)), rng.standard_normal((3, 2, 4))])
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(3, dtype=torch.float64)
    m_mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=F64)
    np.testing.assert_array_equal(m_mask.detach().numpy(), t_mask.numpy())
    _compare([tt(*t_leaves, tgt_mask=t_mask)], [mt(*m_leaves, tgt_mask=m_mask)], t_leaves, m_leaves, rng, tt, mt)


def test_dropout_in_layers_applies_only_while_training():
    minigrad.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = minigrad.randn(4, 2, 8)
    layer.eval()
    a, b = layer(x), layer(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    layer.train()
    assert not np.allclose(layer(x).detach().numpy(), a.detach().numpy())


def test_initialisation_as_torch():
    minigrad.manual_seed(0)
    mha = nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform over the (3E, E) in_proj_weight
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() <= bound
    assert np.abs(mha.in_proj_weight.detach().numpy()).max() > 0.95 * bound
    assert np.all(mha.in_proj_bias.detach().numpy() == 0) and np.all(mha.out_proj.bias.detach().numpy() == 0)
    model = nn.Transformer(16, 2, 1, 1, 32)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    xavier = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= xavier and np.abs(w).max() > 0.9 * xavier


@pytest.mark.parametrize("call, match", [
    (lambda: nn.MultiheadAttention(6, 4), "embed_dim must be divisible by num_heads"),
    (lambda: nn.MultiheadAttention(4, 2)(*[minigrad.randn(3, 1, 4)] * 3, is_causal=True), "Need attn_mask"),
    (lambda: F.scaled_dot_product_attention(*[minigrad.randn(2, 3)] * 3, attn_mask=minigrad.ones(2, 2),
                                            is_causal=True), "attn_mask should not be set"),
    (lambda: nn.TransformerEncoderLayer(4, 2, activation="tanh"), "activation should be relu/gelu"),
])
def test_errors_as_torch(call, match):
    with pytest.raises((RuntimeError, AssertionError, ValueError), match=match):
        call()


# -- weight tying ---------------------------------------------------------------------------
class _TiedLM(nn.Module):
    def __init__(self, lib, dtype):
        super().__init__()
        self.tok_emb = lib.Embedding(7, 4, dtype=dtype)
        self.lm_head = lib.Linear(4, 7, bias=False, dtype=dtype)
        self.lm_head.weight = self.tok_emb.weight

    def forward(self, idx):
        return self.lm_head(self.tok_emb(idx))


def test_tied_weights_are_one_parameter_with_summed_gradient(tmp_path, rng):
    class TorchTied(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = torch.nn.Embedding(7, 4)
            self.lm_head = torch.nn.Linear(4, 7, bias=False)
            self.lm_head.weight = self.tok_emb.weight

    tm = TorchTied().double()
    mm = _TiedLM(nn, F64)
    assert [n for n, _ in mm.named_parameters()] == [n for n, _ in tm.named_parameters()] == ["tok_emb.weight"]
    assert len(list(mm.parameters())) == 1
    mm.load_state_dict(tm.state_dict())
    idx = rng.integers(0, 7, (3, 5))
    target = rng.integers(0, 7, (3, 5))
    TF.cross_entropy(tm.lm_head(tm.tok_emb(torch.tensor(idx))).reshape(-1, 7), torch.tensor(target).reshape(-1)).backward()
    F.cross_entropy(mm(minigrad.tensor(idx)).reshape(-1, 7), minigrad.tensor(target).reshape(-1)).backward()
    np.testing.assert_allclose(mm.tok_emb.weight.grad.numpy(), tm.tok_emb.weight.grad.numpy(), atol=1e-12)
    path = tmp_path / "tied.npz"
    minigrad.save(mm.state_dict(), path)
    import zipfile

    assert len([n for n in zipfile.ZipFile(path).namelist() if not n.startswith("__")]) == 1  # saved once
    loaded = minigrad.load(path)
    assert set(loaded) == {"tok_emb.weight", "lm_head.weight"}  # as torch.save: both names, one tensor
    again = _TiedLM(nn, F64)
    again.load_state_dict(loaded)
    assert again.lm_head.weight is again.tok_emb.weight
    np.testing.assert_array_equal(again.tok_emb.weight.detach().numpy(), mm.tok_emb.weight.detach().numpy())
