"""Neural-network layers with PyTorch's names: ``Module``, ``Linear``, ``Embedding``, losses, ``init``.

``import minigrad.nn.functional as F`` gives the functional forms.
"""
from minigrad.nn import functional, init, utils
from minigrad.nn.activation import (
    CELU, ELU, GELU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, ReLU,
    ReLU6, Sigmoid, SiLU, Softmax, Softplus, Softshrink, Softsign, Tanh, Tanhshrink, Threshold,
)
from minigrad.nn.distance import CosineSimilarity, PairwiseDistance
from minigrad.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d, Fold, Unfold
from minigrad.nn.embedding import Embedding, EmbeddingBag
from minigrad.nn.layers import Dropout, LayerNorm
from minigrad.nn.linear import Bilinear, Linear
from minigrad.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss, HuberLoss, KLDivLoss, L1Loss,
    MarginRankingLoss, MSELoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss, TripletMarginLoss,
)
from minigrad.nn.module import (
    Flatten, Identity, Module, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential, Unflatten,
)
from minigrad.nn.normalization import BatchNorm1d, BatchNorm2d
from minigrad.nn.padding import (
    CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d, ReflectionPad2d,
    ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d, ZeroPad3d,
)
from minigrad.nn.parameter import Parameter
from minigrad.nn.pooling import (
    AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d,
)
from minigrad.nn.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from minigrad.nn.transformer import (
    MultiheadAttention, Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict", "Identity", "Flatten", "Linear",
    "Embedding", "EmbeddingBag", "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax",
    "Dropout", "LayerNorm", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
    "BCELoss", "BCEWithLogitsLoss", "functional", "init",
    "RNNBase", "RNN", "GRU", "LSTM", "RNNCellBase", "RNNCell", "GRUCell", "LSTMCell",
    "MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
    "TransformerDecoder", "Transformer",
    "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "Unfold", "Fold",
    "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "BatchNorm1d",
    "BatchNorm2d", "ParameterList", "ParameterDict", "Unflatten", "Bilinear", "CosineSimilarity", "PairwiseDistance",
    "Softplus", "SiLU", "ELU", "Mish", "Hardtanh", "LogSigmoid", "KLDivLoss", "MarginRankingLoss",
    "CosineEmbeddingLoss", "TripletMarginLoss", "PoissonNLLLoss", "GaussianNLLLoss",
    "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ReflectionPad1d",
    "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "CircularPad1d", "CircularPad2d",
    "ReLU6", "SELU", "CELU", "Hardswish", "Hardsigmoid", "Softsign", "Tanhshrink", "Softshrink", "Hardshrink",
    "Threshold",
]
