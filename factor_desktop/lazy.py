"""Names a package exports, imported from its modules only when first used.

The window's first frame must not wait for SQLAlchemy and the queries behind a package's names
(see ui/opening.py), while callers keep importing those names from the package itself.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any


def lazy_exports(
    package: str, names: Iterable[str], modules: Iterable[str], namespace: MutableMapping[str, Any]
) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: a name of `names` is looked up in `modules` (lightest
    first), kept in the package's `namespace`, and returned."""
    exported = frozenset(names)
    order = tuple(modules)

    def __getattr__(name: str) -> Any:
        if name in exported:
            for module_name in order:
                module = vars(importlib.import_module(f"{package}.{module_name}"))
                if name in module:
                    namespace[name] = module[name]
                    return module[name]
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
