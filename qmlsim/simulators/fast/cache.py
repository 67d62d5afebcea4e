"""Where numba keeps qmlsim's compiled kernels: the user cache directory, never the installed package.

numba writes the cache of a ``cache=True`` function beside its source file whenever that
folder is writable, so an installed qmlsim would grow (about 11 MB) inside
``site-packages``. For read-only installs numba already uses a user-wide cache directory
(``~/.cache/numba`` on Linux); :func:`use_user_cache` makes numba take that choice for
qmlsim's own source files always. Other packages' functions are untouched, and
``NUMBA_CACHE_DIR``, when the user sets it, still wins for every function.
"""
from __future__ import annotations

import os
from typing import Any

__all__ = ["use_user_cache"]

_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def use_user_cache() -> None:
    """Register the cache locator for qmlsim's files (idempotent; a no-op if numba's caching API differs)."""
    try:
        from numba.core import caching, config  # noqa: PLC0415
    except ImportError:  # pragma: no cover - numba is optional for the array path
        return
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    user_wide = getattr(caching, "UserWideCacheLocator", None) or getattr(caching, "_UserWideCacheLocator", None)
    if impl is None or user_wide is None or not hasattr(impl, "_locator_classes"):  # pragma: no cover - other numba
        return
    if any(getattr(cls, "_qmlsim", False) for cls in impl._locator_classes):
        return

    class QmlsimUserCacheLocator(user_wide):  # type: ignore[misc, valid-type]
        """numba's user-wide cache directory, for functions defined in qmlsim's source files."""

        _qmlsim = True

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if config.CACHE_DIR or not os.path.abspath(py_file).startswith(_PACKAGE_ROOT + os.sep):
                return None
            return super().from_function(py_func, py_file)

    impl._locator_classes.insert(0, QmlsimUserCacheLocator)
