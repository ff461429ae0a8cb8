"""Attention layers: ``MultiheadAttention`` and the Transformer encoder/decoder stacks.

Names, arguments, parameter names and initialisation follow PyTorch, so a PyTorch
``state_dict`` loads as is. Everything is composed of differentiable ops around
:func:`minigrad.nn.functional.scaled_dot_product_attention`.
"""
from __future__ import annotations

import copy

import numpy as np

import minigrad
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.layers import Dropout, LayerNorm
from minigrad.nn.linear import Linear
from minigrad.nn.module import Module, ModuleList
from minigrad.nn.parameter import Parameter
from minigrad.ops.attention import masked_softmax

__all__ = ["MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
           "TransformerDecoder", "Transformer"]


def _data(x):
    return x._array if isinstance(x, minigrad.Tensor) else x


def _additive(mask, dtype):
    """A mask as numbers to add to the scores: a boolean True (blocked) becomes −inf, a float passes."""
    if mask is None:
        return None
    m = _data(mask)
    if np.asarray(m).dtype == np.bool_:
        return np.where(m, -np.inf, 0.0).astype(dtype)
    return mask


class MultiheadAttention(Module):
    """Attention with ``num_heads`` heads: ``out_proj(concat_h softmax(Q_h K_hᵀ/√d + M) V_h)``.

    Q, K, V are linear maps of ``query``, ``key``, ``value`` (one ``in_proj_weight``
    of shape (3E, E) when ``kdim == vdim == embed_dim``, else ``q_proj_weight``,
    ``k_proj_weight``, ``v_proj_weight``), each split into heads of d = E/num_heads.

    Parameters
    ----------
    embed_dim, num_heads : int
    dropout : float, default 0
        Dropout on the attention weights while training.
    bias : bool, default True
    add_bias_kv : bool, default False
        Learned ``bias_k``, ``bias_v`` appended to the keys and values.
    add_zero_attn : bool, default False
        A zero key and value appended.
    kdim, vdim : int, optional
    batch_first : bool, default False

    Notes
    -----
    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` → ``(attn_output, attn_weights or None)``.
    Masks: boolean True = *may not attend* (PyTorch's convention here), or floats added to the scores.

    Examples
    --------
    >>> import minigrad
    >>> mha = minigrad.nn.MultiheadAttention(8, 2, batch_first=True)
    >>> x = minigrad.randn(3, 5, 8)
    >>> out, weights = mha(x, x, x)
    >>> out.shape, weights.shape
    (minigrad.Size([3, 5, 8]), minigrad.Size([3, 5, 5]))
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(
                f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and num_heads={num_heads} instead"
            )
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        dt = np.dtype(dtype or np.float32)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * embed_dim, embed_dim), dtype=dt))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(np.empty((embed_dim, embed_dim), dtype=dt))
            self.k_proj_weight = Parameter(np.empty((embed_dim, self.kdim), dtype=dt))
            self.v_proj_weight = Parameter(np.empty((embed_dim, self.vdim), dtype=dt))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(np.empty((3 * embed_dim,), dtype=dt))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = Linear(embed_dim, embed_dim, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, embed_dim), dtype=dt))
            self.bias_v = Parameter(np.empty((1, 1, embed_dim), dtype=dt))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.zeros_(self.in_proj_bias)
            init.zeros_(self.out_proj.bias)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def _project(self, query, key, value):
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e: 2 * e], b[2 * e:])
        if self._qkv_same_embed_dim:
            w = self.in_proj_weight
            if query is key and key is value:  # self-attention: one matmul for q, k and v
                qkv = F.linear(query, w, b)
                return qkv[..., :e], qkv[..., e: 2 * e], qkv[..., 2 * e:]
            wq, wk, wv = w[:e], w[e: 2 * e], w[2 * e:]
        else:
            wq, wk, wv = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        return F.linear(query, wq, bq), F.linear(key, wk, bk), F.linear(value, wv, bv)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        if is_causal and attn_mask is None:
            raise RuntimeError(
                "Need attn_mask if specifying the is_causal hint. You may use the Transformer module method "
                "`generate_square_subsequent_mask` to create this mask."
            )
        batched = query.ndim == 3
        same = query is key, key is value
        if not batched:
            query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif self.batch_first:
            query = query.transpose(0, 1)
            key = query if same[0] else key.transpose(0, 1)
            value = key if same[1] else value.transpose(0, 1)
        if same[0]:
            key = query
        if same[1]:
            value = key
        length, batch, e = query.shape
        if e != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but got {e}")
        h, d = self.num_heads, self.head_dim
        q, k, v = self._project(query, key, value)  # (L, N, E), (S, N, E), (S, N, E)
        mask = _additive(attn_mask, q.dtype)
        pad = _additive(key_padding_mask, q.dtype)
        if mask is not None and np.ndim(_data(mask)) == 3:
            mask = minigrad.reshape(mask, (batch, h) + tuple(mask.shape[1:])) if hasattr(mask, "grad_fn") \
                else np.reshape(mask, (batch, h) + mask.shape[1:])
        if self.bias_k is not None:
            k = minigrad.cat([k, self.bias_k.expand(1, batch, e)], 0)
            v = minigrad.cat([v, self.bias_v.expand(1, batch, e)], 0)
            mask = None if mask is None else _pad_last(mask)
            pad = None if pad is None else _pad_last(pad)
        if self.add_zero_attn:
            zeros = minigrad.zeros((1, batch, e), dtype=k.dtype)
            k, v = minigrad.cat([k, zeros], 0), minigrad.cat([v, zeros], 0)
            mask = None if mask is None else _pad_last(mask)
            pad = None if pad is None else _pad_last(pad)
        source = k.shape[0]
        # (T, N, E) → (N, H, T, d)
        q = q.reshape(length, batch, h, d).permute(1, 2, 0, 3)
        k = k.reshape(source, batch, h, d).permute(1, 2, 0, 3)
        v = v.reshape(source, batch, h, d).permute(1, 2, 0, 3)
        scores = minigrad.matmul(q * (1.0 / d) ** 0.5, k.transpose(-2, -1))  # (N, H, L, S)
        if mask is not None:
            scores = scores + mask
        if pad is not None:
            p = pad.reshape(batch, 1, 1, source) if hasattr(pad, "grad_fn") else np.reshape(pad, (batch, 1, 1, source))
            scores = scores + p
        weights = masked_softmax(scores, -1)
        if self.training and self.dropout > 0:
            weights = F.dropout(weights, self.dropout, True)
        out = minigrad.matmul(weights, v).permute(2, 0, 1, 3).reshape(length, batch, e)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(1)
        elif self.batch_first:
            out = out.transpose(0, 1)
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            weights = weights.squeeze(0)
        return out, weights

    def extra_repr(self) -> str:
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, batch_first={self.batch_first}"


def _pad_last(mask):
    """One more key position, not blocked (0 added), as PyTorch pads for bias_kv / zero_attn."""
    m = _data(mask)
    zero = np.zeros(np.shape(m)[:-1] + (1,), dtype=np.asarray(m).dtype)
    if hasattr(mask, "grad_fn"):
        return minigrad.cat([mask, minigrad.tensor(zero)], -1)
    return np.concatenate([m, zero], -1)


def _activation(activation):
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and LayerNorm.

    Post-norm (default): ``x = norm1(x + sa(x)); x = norm2(x + ff(x))``.
    Pre-norm (``norm_first=True``): ``x = x + sa(norm1(x)); x = x + ff(norm2(x))``,
    with ``ff(x) = linear2(dropout(activation(linear1(x))))``.

    Examples
    --------
    >>> import minigrad
    >>> layer = minigrad.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True)
    >>> layer(minigrad.randn(3, 5, 8)).shape
    minigrad.Size([3, 5, 8])
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal: bool = False):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention, attention over ``memory`` (the encoder's output), then a feed-forward block.

    Each sub-block has a residual connection and LayerNorm, after (default) or
    before (``norm_first=True``) it, as in :class:`TransformerEncoderLayer`.

    Examples
    --------
    >>> import minigrad
    >>> layer = minigrad.nn.TransformerDecoderLayer(8, 2, dim_feedforward=16)
    >>> layer(minigrad.randn(4, 3, 8), minigrad.randn(6, 3, 8)).shape
    minigrad.Size([4, 3, 8])
    """

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            dtype=dtype)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                 batch_first=batch_first, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal: bool = False, memory_is_causal: bool = False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` applied in turn, then ``norm`` if given.

    Examples
    --------
    >>> import minigrad
    >>> layer = minigrad.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16)
    >>> minigrad.nn.TransformerEncoder(layer, num_layers=2)(minigrad.randn(5, 3, 8)).shape
    minigrad.Size([5, 3, 8])
    """

    def __init__(self, encoder_layer: Module, num_layers: int, norm=None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask, is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` applied in turn, then ``norm`` if given."""

    def __init__(self, decoder_layer: Module, num_layers: int, norm=None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal: bool = False):
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """The encoder-decoder model of "Attention Is All You Need", with PyTorch's arguments and defaults.

    Every weight matrix is initialised ``xavier_uniform_`` (as PyTorch's ``Transformer``).
    :meth:`generate_square_subsequent_mask` gives the causal mask for ``tgt``.

    Examples
    --------
    >>> import minigrad
    >>> minigrad.nn.Transformer.generate_square_subsequent_mask(3)
    tensor([[0., -inf, -inf],
            [0., 0., -inf],
            [0., 0., 0.]])
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation="relu", custom_encoder=None, custom_decoder=None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        kw = dict(dropout=dropout, activation=activation, layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                  norm_first=norm_first, bias=bias, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, **kw)
            self.encoder = TransformerEncoder(layer, num_encoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, **kw)
            self.decoder = TransformerDecoder(layer, num_decoder_layers,
                                              LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal: bool = False):
        batch_dim = 0 if self.batch_first else 1
        if src.ndim == 3 and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None):
        """A (sz, sz) float mask: −inf above the diagonal (the future), 0 elsewhere."""
        dt = np.dtype(dtype or np.float32)
        return minigrad.tensor(np.triu(np.full((sz, sz), -np.inf, dtype=dt), 1))
