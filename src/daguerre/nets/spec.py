"""``module.spec`` recorded from the constructor's arguments (as diffusers' ``register_to_config``).

A spec is ``{"type": kind, **every constructor argument}`` with defaults filled in, so
:func:`daguerre.nets.build_network` rebuilds the same architecture and a model card written
from it names every argument — none can be forgotten by hand.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from torch import nn

ModuleT = TypeVar("ModuleT", bound=nn.Module)


def records_spec(kind: str) -> Callable[[type[ModuleT]], type[ModuleT]]:
    """Class decorator: after ``__init__``, set ``self.spec`` to ``{"type": kind, **arguments}``.

    ``arguments`` are the constructor's parameters bound to the call, defaults applied. A class
    may define ``_canonical_arguments(self, arguments) -> dict`` to replace values by what they
    came to mean (a composite's nested specs with their defaults); it must keep the keys. A
    subclass records its own spec only when decorated itself; otherwise it has none.
    """

    def decorate(cls: type[ModuleT]) -> type[ModuleT]:
        init = cls.__init__
        signature = inspect.signature(init)
        variadic = [
            name
            for name, parameter in signature.parameters.items()
            if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD)
        ]
        if variadic:
            raise TypeError(f"{cls.__name__}: a spec cannot record *args or **kwargs {variadic}")

        @functools.wraps(init)
        def __init__(self: ModuleT, *args: Any, **kwargs: Any) -> None:
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            init(self, *args, **kwargs)
            if type(self) is not cls:
                return  # an undecorated subclass gets no spec rather than its parent's
            arguments = dict(bound.arguments)
            del arguments[next(iter(signature.parameters))]  # self
            canonical = getattr(self, "_canonical_arguments", None)
            if canonical is not None:
                recorded = canonical(dict(arguments))
                if recorded.keys() != arguments.keys():
                    raise TypeError(
                        f"{cls.__name__}._canonical_arguments changed the keys "
                        f"{sorted(arguments)} to {sorted(recorded)}"
                    )
                arguments = recorded
            self.spec = {"type": kind, **arguments}

        cls.__init__ = __init__  # type: ignore[method-assign]
        return cls

    return decorate
