"""A small typed registry: backends register by name, and the names feed the CLI, web form and API.

SWAPPERS: Registry[SwapperFactory] = Registry("swapper")

@SWAPPERS.register("mesh")
def build_mesh_swapper(config: SwapConfig) -> Swapper: ...

SWAPPERS.names()            # ("mesh",)
SWAPPERS.get("mesh")(config)
"""

from collections.abc import Callable
from typing import Generic, TypeVar

from facecraft.errors import FacecraftError

F = TypeVar("F", bound=Callable[..., object])


class UnknownBackendError(FacecraftError):
    def __init__(self, kind: str, name: str, known: tuple[str, ...]) -> None:
        super().__init__(f"unknown {kind} '{name}'; choose one of: {', '.join(known) or '(none registered)'}")


class Registry(Generic[F]):
    """Name -> factory. Registration happens at import of the backend module, explicitly listed."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._factories: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        def decorate(factory: F) -> F:
            if name in self._factories:
                raise ValueError(f"{self._kind} '{name}' is registered twice")
            self._factories[name] = factory
            return factory

        return decorate

    def get(self, name: str) -> F:
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownBackendError(self._kind, name, self.names()) from None

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._factories))
