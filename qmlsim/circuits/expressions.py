"""Symbolic gate angles: constants, inputs ``x[i]``, weights ``w[j]`` and expressions of them.

An expression is a small immutable tree. It is evaluated vectorised over a batch of
input rows by code generated once per expression (:func:`compile_expressions`), and
differentiated symbolically (:meth:`Expr.diff`) so that gradients flow through it by
the chain rule.

>>> from qmlsim.circuits.expressions import Symbol
>>> x0 = Symbol("x", 0)
>>> e = 2 * (3.0 - x0) ** 2
>>> import numpy as np
>>> float(e.evaluate(np.array([[1.0]]), np.zeros(0))[0])
8.0
"""
from __future__ import annotations

import abc
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

__all__ = [
    "Expr",
    "Const",
    "Symbol",
    "sin",
    "cos",
    "arccos",
    "exp",
    "sqrt",
    "as_expr",
    "compile_expressions",
]

# The functions an angle expression may use: name -> (derivative as an expression builder).
_FUNCTIONS = ("sin", "cos", "arccos", "exp", "sqrt")

# NumPy ufuncs an Expr answers to, so that ``np.pi - x[0]`` and ``np.sin(x[0])`` build
# expressions instead of object arrays.
_UFUNC_BINARY = {
    "add": lambda a, b: Add(a, b),
    "subtract": lambda a, b: Add(a, Neg(b)),
    "multiply": lambda a, b: Mul(a, b),
    "true_divide": lambda a, b: Div(a, b),
    "divide": lambda a, b: Div(a, b),
    "power": lambda a, b: Pow(a, b),
}


class Expr(abc.ABC):
    """Abstract node of a symbolic angle expression."""

    __slots__ = ()

    # --- arithmetic -------------------------------------------------------
    def __add__(self, other: Any) -> Expr:
        return Add(self, as_expr(other))

    def __radd__(self, other: Any) -> Expr:
        return Add(as_expr(other), self)

    def __sub__(self, other: Any) -> Expr:
        return Add(self, Neg(as_expr(other)))

    def __rsub__(self, other: Any) -> Expr:
        return Add(as_expr(other), Neg(self))

    def __mul__(self, other: Any) -> Expr:
        return Mul(self, as_expr(other))

    def __rmul__(self, other: Any) -> Expr:
        return Mul(as_expr(other), self)

    def __truediv__(self, other: Any) -> Expr:
        return Div(self, as_expr(other))

    def __rtruediv__(self, other: Any) -> Expr:
        return Div(as_expr(other), self)

    def __pow__(self, other: Any) -> Expr:
        return Pow(self, as_expr(other))

    def __rpow__(self, other: Any) -> Expr:
        return Pow(as_expr(other), self)

    def __neg__(self) -> Expr:
        return Neg(self)

    def __pos__(self) -> Expr:
        return self

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs:
            return NotImplemented
        name = ufunc.__name__
        if name in _UFUNC_BINARY and len(inputs) == 2:
            return _UFUNC_BINARY[name](as_expr(inputs[0]), as_expr(inputs[1]))
        if name == "negative":
            return Neg(as_expr(inputs[0]))
        if name in _FUNCTIONS:
            return Func(name, as_expr(inputs[0]))
        return NotImplemented

    def __bool__(self) -> bool:
        raise TypeError(
            "a symbolic angle has no truth value; compare numbers only after binding inputs and weights"
        )

    # --- evaluation and calculus -----------------------------------------
    @abc.abstractmethod
    def source(self) -> str:
        """Python source of this expression over ``x`` (batch, n), ``w`` (m,) and namespace ``xp``."""

    @abc.abstractmethod
    def diff(self, symbol: Symbol) -> Expr:
        """Symbolic partial derivative with respect to ``symbol``."""

    @abc.abstractmethod
    def symbols(self) -> frozenset[Symbol]:
        """The input and weight symbols this expression depends on."""

    def evaluate(self, x: Any, weights: Any, xp: Any = np) -> Any:
        """Evaluate on a batch of inputs.

        Args:
            x: inputs, shape ``(batch, num_inputs)``.
            weights: shape ``(num_weights,)``.
            xp: array namespace (numpy, cupy or jax.numpy).

        Returns:
            Shape ``(batch,)`` if the expression depends on inputs, else a scalar.
        """
        return compile_expressions([self])(x, weights, xp)[0]

    @property
    def is_constant(self) -> bool:
        return not self.symbols()

    @property
    def depends_on_inputs(self) -> bool:
        return any(s.kind == "x" for s in self.symbols())

    def __repr__(self) -> str:
        return self.source().replace("xp.", "").replace("x[:, ", "x[")


@dataclass(frozen=True, eq=True, repr=False)
class Const(Expr):
    """A numeric constant angle."""

    value: float

    def source(self) -> str:
        return repr(float(self.value))

    def diff(self, symbol: Symbol) -> Expr:
        return ZERO

    def symbols(self) -> frozenset[Symbol]:
        return frozenset()


@dataclass(frozen=True, eq=True, repr=False)
class Symbol(Expr):
    """Input feature ``x[index]`` (``kind="x"``) or trainable weight ``w[index]`` (``kind="w"``)."""

    kind: str
    index: int

    def source(self) -> str:
        return f"x[:, {self.index}]" if self.kind == "x" else f"w[{self.index}]"

    def diff(self, symbol: Symbol) -> Expr:
        return ONE if symbol == self else ZERO

    def symbols(self) -> frozenset[Symbol]:
        return frozenset((self,))

    def __repr__(self) -> str:
        return f"{self.kind}[{self.index}]"


@dataclass(frozen=True, eq=True, repr=False)
class Add(Expr):
    a: Expr
    b: Expr

    def source(self) -> str:
        return f"({self.a.source()} + {self.b.source()})"

    def diff(self, symbol: Symbol) -> Expr:
        return _add(self.a.diff(symbol), self.b.diff(symbol))

    def symbols(self) -> frozenset[Symbol]:
        return self.a.symbols() | self.b.symbols()


@dataclass(frozen=True, eq=True, repr=False)
class Neg(Expr):
    a: Expr

    def source(self) -> str:
        return f"(-{self.a.source()})"

    def diff(self, symbol: Symbol) -> Expr:
        d = self.a.diff(symbol)
        return ZERO if d == ZERO else Neg(d)

    def symbols(self) -> frozenset[Symbol]:
        return self.a.symbols()


@dataclass(frozen=True, eq=True, repr=False)
class Mul(Expr):
    a: Expr
    b: Expr

    def source(self) -> str:
        return f"({self.a.source()} * {self.b.source()})"

    def diff(self, symbol: Symbol) -> Expr:
        return _add(_mul(self.a.diff(symbol), self.b), _mul(self.a, self.b.diff(symbol)))

    def symbols(self) -> frozenset[Symbol]:
        return self.a.symbols() | self.b.symbols()


@dataclass(frozen=True, eq=True, repr=False)
class Div(Expr):
    a: Expr
    b: Expr

    def source(self) -> str:
        return f"({self.a.source()} / {self.b.source()})"

    def diff(self, symbol: Symbol) -> Expr:
        da, db = self.a.diff(symbol), self.b.diff(symbol)
        num = _add(_mul(da, self.b), Neg(_mul(self.a, db)) if db != ZERO else ZERO)
        return ZERO if num == ZERO else Div(num, Mul(self.b, self.b))

    def symbols(self) -> frozenset[Symbol]:
        return self.a.symbols() | self.b.symbols()


@dataclass(frozen=True, eq=True, repr=False)
class Pow(Expr):
    a: Expr
    b: Expr

    def source(self) -> str:
        return f"({self.a.source()} ** {self.b.source()})"

    def diff(self, symbol: Symbol) -> Expr:
        da, db = self.a.diff(symbol), self.b.diff(symbol)
        # d(a^b) = b a^(b-1) da + a^b log(a) db
        term_a = _mul(_mul(self.b, Pow(self.a, Add(self.b, Const(-1.0)))), da) if da != ZERO else ZERO
        term_b = _mul(_mul(self, Func("log", self.a)), db) if db != ZERO else ZERO
        return _add(term_a, term_b)

    def symbols(self) -> frozenset[Symbol]:
        return self.a.symbols() | self.b.symbols()


@dataclass(frozen=True, eq=True, repr=False)
class Func(Expr):
    """An elementary function of one expression: sin, cos, arccos, exp, sqrt (log internally)."""

    name: str
    a: Expr

    def source(self) -> str:
        return f"xp.{self.name}({self.a.source()})"

    def diff(self, symbol: Symbol) -> Expr:
        da = self.a.diff(symbol)
        if da == ZERO:
            return ZERO
        a = self.a
        outer = {
            "sin": lambda: Func("cos", a),
            "cos": lambda: Neg(Func("sin", a)),
            "exp": lambda: self,
            "sqrt": lambda: Div(Const(0.5), self),
            "log": lambda: Div(ONE, a),
            "arccos": lambda: Neg(Div(ONE, Func("sqrt", Add(ONE, Neg(Mul(a, a)))))),
        }[self.name]()
        return _mul(outer, da)

    def symbols(self) -> frozenset[Symbol]:
        return self.a.symbols()


ZERO = Const(0.0)
ONE = Const(1.0)


def _add(a: Expr, b: Expr) -> Expr:
    if a == ZERO:
        return b
    if b == ZERO:
        return a
    return Add(a, b)


def _mul(a: Expr, b: Expr) -> Expr:
    if a == ZERO or b == ZERO:
        return ZERO
    if a == ONE:
        return b
    if b == ONE:
        return a
    return Mul(a, b)


def as_expr(value: Any) -> Expr:
    """Turn a number or expression into an :class:`Expr`.

    Raises:
        TypeError: for values that are neither real numbers nor expressions.
        ValueError: for NaN or infinite numbers.
    """
    if isinstance(value, Expr):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"a gate angle must be a real number or expression, got bool {value!r}")
    if isinstance(value, (int, float, np.integer, np.floating)) or (
        isinstance(value, np.ndarray) and value.shape == () and np.isrealobj(value)
    ):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"gate angle is {number}; angles must be finite real numbers")
        return Const(number)
    if isinstance(value, (complex, np.complexfloating)):
        raise TypeError(f"gate angles must be real, got complex {value!r}")
    raise TypeError(
        f"a gate angle must be a real number, an input x[i], a weight w[j] or an expression of them; "
        f"got {type(value).__name__}"
    )


def _unary(name: str) -> Callable[[Any], Any]:
    numpy_fn = getattr(np, name)

    def fn(value: Any) -> Any:
        if isinstance(value, Expr):
            return Func(name, value)
        return numpy_fn(value)

    fn.__name__ = name
    fn.__doc__ = f"``{name}`` of a number (NumPy) or of a symbolic angle expression."
    return fn


sin = _unary("sin")
cos = _unary("cos")
arccos = _unary("arccos")
exp = _unary("exp")
sqrt = _unary("sqrt")

@functools.lru_cache(maxsize=4096)
def _compile(key: tuple[Expr, ...]) -> Callable:
    body = ", ".join(e.source() for e in key)
    return eval(f"lambda x, w, xp: [{body}]", {"__builtins__": {}})  # noqa: S307 - source built from our own trees


def compile_expressions(exprs: Sequence[Expr]) -> Callable[[Any, Any, Any], list]:
    """Compile expressions into one function ``f(x, w, xp) -> list`` of values.

    The generated code evaluates each expression once, vectorised over the batch axis
    of ``x``; results for constant or weight-only expressions are scalars.
    Compiled functions are cached by the expressions themselves.
    """
    return _compile(tuple(exprs))
