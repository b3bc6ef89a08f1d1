"""Job kinds: each tool registers its kinds here, in one place each.

A kind says what parameters it takes (a DRF serializer: validated on creation and described
in the OpenAPI schema), which inputs, which queue, its time limit and attempts, and the
dotted path of its runner. Runners are imported only inside worker processes, so the web
server never imports torch.
"""

from dataclasses import dataclass, field
from typing import Callable, Literal

from rest_framework import serializers


@dataclass(frozen=True)
class InputSpec:
    """One named input of a job kind: an asset or an asset set, one or many."""

    kind: Literal["asset", "set"] = "asset"
    many: bool = False
    required: bool = True
    help: str = ""


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    params: type[serializers.Serializer]
    runner: str  # "package.module:function", called as function(ctx: JobContext)
    inputs: dict[str, InputSpec] = field(default_factory=dict)
    queue: Literal["gpu", "default"] = "default"
    time_limit_s: int = 600
    max_attempts: int = 3
    output_kind: str = "upload"
    # Cross-checks between inputs and params: (assets_by_name, params) -> None, raises ValidationError.
    check: Callable | None = None


class UnknownJobKind(KeyError):
    pass


_kinds: dict[str, JobKind] = {}


def register(kind: JobKind) -> JobKind:
    if kind.name in _kinds and _kinds[kind.name] != kind:
        raise ValueError(f"job kind {kind.name!r} registered twice")
    _kinds[kind.name] = kind
    return kind


def get(name: str) -> JobKind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownJobKind(name) from None


def all_kinds() -> list[JobKind]:
    return sorted(_kinds.values(), key=lambda k: k.name)
