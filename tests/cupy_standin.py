"""A NumPy-backed stand-in for the ``cupy`` module, so the CuPy backend's code runs on CPU.

Arrays it creates are :class:`DeviceArray` (an ``ndarray`` subclass). Mixing a device
array with a plain host ``ndarray`` in one operation raises, as CuPy does: this catches
a host constant that the engine forgot to move with ``xp.asarray``. ``asnumpy`` brings
arrays back to the host, as ``cupy.asnumpy`` does.
"""
from __future__ import annotations

import types

import numpy as np


class DeviceArray(np.ndarray):
    """An array "on the device"."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _refuse_host(inputs, ufunc.__name__)
        plain = [np.asarray(i) if isinstance(i, DeviceArray) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, DeviceArray) else o for o in kwargs["out"])
        result = getattr(ufunc, method)(*plain, **kwargs)
        return _to_device(result)

    def __array_function__(self, func, types_, args, kwargs):
        _refuse_host(_flatten(args) + _flatten(tuple(kwargs.values())), func.__name__)
        plain_args = _strip(args)
        plain_kwargs = {k: _strip(v) for k, v in kwargs.items()}
        return _to_device(func(*plain_args, **plain_kwargs))


def _flatten(items):
    out = []
    for item in items:
        if isinstance(item, (list, tuple)):
            out.extend(_flatten(item))
        else:
            out.append(item)
    return out


def _refuse_host(items, name):
    has_device = any(isinstance(i, DeviceArray) for i in items)
    host = [i for i in items if type(i) is np.ndarray and i.ndim > 0]
    if has_device and host:
        raise TypeError(f"cupy stand-in: {name} mixes device arrays with a host numpy array of shape {host[0].shape}")


def _strip(value):
    if isinstance(value, DeviceArray):
        return np.asarray(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_strip(v) for v in value)
    return value


def _to_device(value):
    if isinstance(value, np.ndarray) and not isinstance(value, DeviceArray):
        return value.view(DeviceArray)
    if isinstance(value, tuple):
        return tuple(_to_device(v) for v in value)
    return value


def make_cupy_standin() -> types.ModuleType:
    """A module object with CuPy's array API subset used by qmlsim, running on NumPy."""
    module = types.ModuleType("cupy_standin")

    def wrap(fn):
        def device_fn(*args, **kwargs):
            return _to_device(fn(*_strip(args), **{k: _strip(v) for k, v in kwargs.items()}))

        device_fn.__name__ = getattr(fn, "__name__", "fn")
        return device_fn

    for name in dir(np):
        attr = getattr(np, name)
        if callable(attr) and not isinstance(attr, type) and not name.startswith("_"):
            setattr(module, name, wrap(attr))
        elif not name.startswith("_"):
            setattr(module, name, attr)
    module.ndarray = DeviceArray
    module.asnumpy = lambda a: np.array(a, copy=True).view(np.ndarray)
    module.__name__ = "cupy_standin"
    return module
