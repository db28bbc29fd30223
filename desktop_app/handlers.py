"""One generic registry for every platform-handler family (capture, clipboard, ...).

A family is an ordered Enum whose members' values are handler modules; member order is
the preference order. Each module exposes ``is_compatible()``, ``is_installed()`` and
``install_instructions`` plus its verb; the registry only chooses, the caller calls.
"""

from __future__ import annotations

import enum
import logging
from types import ModuleType
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=enum.Enum)


class HandlerRegistry(Generic[M]):
    def __init__(self, methods: type[M], modules: dict[M, ModuleType]):
        self.methods = methods
        self.modules = modules

    def is_available(self, method: M) -> bool:
        module = self.modules[method]
        try:
            return bool(module.is_compatible() and module.is_installed())
        except Exception:  # a probing bug must not take the whole family down
            logger.exception("probing %s failed", method.name)
            return False

    def available(self) -> list[M]:
        """Usable handlers in preference order."""
        return [m for m in self.methods if self.is_available(m)]

    def ordered(self, forced: str | None = None) -> list[tuple[M, ModuleType]]:
        """Handlers to try: the forced one (if named and known), else all available.

        A forced handler is returned even when its probe fails, so the user gets that
        handler's own error instead of a silent switch to another one.
        """
        if forced and forced != "auto":
            try:
                method = self.methods[forced.upper()]
            except KeyError:
                logger.warning("unknown handler %r; using automatic choice", forced)
            else:
                return [(method, self.modules[method])]
        return [(m, self.modules[m]) for m in self.available()]
