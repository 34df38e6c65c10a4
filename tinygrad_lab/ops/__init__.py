"""Every built-in op, each a `Function` written exactly as a user would write one."""

from tinygrad_lab.ops.conv import Conv2d, conv_output_size
from tinygrad_lab.ops.elementwise import (
    Abs,
    Add,
    Clip,
    Div,
    Exp,
    LeakyReLU,
    Log,
    Mul,
    Neg,
    Pow,
    ReLU,
    Sigmoid,
    Sqrt,
    Sub,
    Tanh,
    TensorPow,
)
from tinygrad_lab.ops.loss import MSE, CrossEntropy
from tinygrad_lab.ops.matmul import Affine, MatMul
from tinygrad_lab.ops.movement import Concatenate, GetItem, Reshape, Stack, Transpose
from tinygrad_lab.ops.reduce import LogSoftmax, LogSumExp, Max, Mean, Min, Softmax, Sum

__all__ = [
    "Abs",
    "Add",
    "Affine",
    "Clip",
    "Concatenate",
    "Conv2d",
    "CrossEntropy",
    "Div",
    "Exp",
    "GetItem",
    "LeakyReLU",
    "Log",
    "LogSoftmax",
    "LogSumExp",
    "MSE",
    "MatMul",
    "Max",
    "Mean",
    "Min",
    "Mul",
    "Neg",
    "Pow",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Sqrt",
    "Stack",
    "Sub",
    "Sum",
    "Tanh",
    "TensorPow",
    "Transpose",
    "conv_output_size",
]
