"""Pretrained-weight descriptions and the model registry (torchvision's ``models._api``)."""

from __future__ import annotations

import enum
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from inspect import signature
from types import ModuleType
from typing import Any, TypeVar, get_type_hints

from ...hub import load_state_dict_from_url
from ...nn import Module

__all__ = ["WeightsEnum", "Weights", "get_model", "get_model_builder", "get_model_weights",
           "get_weight", "list_models", "register_model"]


@dataclass
class Weights:
    """What belongs to one set of pretrained weights.

    Args:
        url: where the checkpoint can be downloaded.
        transforms: a callable that builds the preprocessing the model expects.
        meta: facts about the weights (``categories``, ``num_params``, metrics, ...).
    """

    url: str
    transforms: Callable
    meta: dict[str, Any]

    def __eq__(self, other: Any) -> bool:
        # ``transforms`` is usually a ``functools.partial``, and a copy of a partial (what
        # deepcopy and unpickling make) is not equal to it; compare what it binds instead,
        # so that an enum member can be looked up again by its value.
        if not isinstance(other, Weights):
            return NotImplemented
        if self.url != other.url or self.meta != other.meta:
            return False
        if isinstance(self.transforms, partial) and isinstance(other.transforms, partial):
            return (self.transforms.func == other.transforms.func
                    and self.transforms.args == other.transforms.args
                    and self.transforms.keywords == other.transforms.keywords)
        return self.transforms == other.transforms


class WeightsEnum(enum.Enum):
    """Base class of the weights enums (``ResNet18_Weights``, ...): each member's value is a
    ``Weights``, and its ``url``, ``transforms`` and ``meta`` can be read off the member."""

    @classmethod
    def verify(cls, obj: Any) -> Any:
        """``obj`` as a member of this enum: None, a member, or a member's name as a string
        (``"IMAGENET1K_V1"`` or ``"ResNet18_Weights.IMAGENET1K_V1"``)."""
        if obj is not None:
            if type(obj) is str:
                obj = cls[obj.replace(cls.__name__ + ".", "")]
            elif not isinstance(obj, cls):
                raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but "
                                f"received {obj.__class__.__name__}.")
        return obj

    def get_state_dict(self, *args: Any, **kwargs: Any) -> Mapping[str, Any]:
        """The checkpoint's state dict, from the hub cache or downloaded into it
        (arguments as ``ember.hub.load_state_dict_from_url``)."""
        return load_state_dict_from_url(self.url, *args, **kwargs)

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}.{self._name_}"

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def transforms(self) -> Callable:
        return self.value.transforms

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta


def get_weight(name: str) -> WeightsEnum:
    """The weights enum member named ``name``, e.g. ``"ResNet50_Weights.IMAGENET1K_V1"``."""
    try:
        enum_name, value_name = name.split(".")
    except ValueError:
        raise ValueError(f"Invalid weight name provided: '{name}'.") from None
    models = sys.modules[__name__.rsplit(".", 1)[0]]
    weights_enum = getattr(models, enum_name, None)
    if not (isinstance(weights_enum, type) and issubclass(weights_enum, WeightsEnum)):
        raise ValueError(f"The weight enum '{enum_name}' for the specific method couldn't be "
                         "retrieved.")
    return weights_enum[value_name]


def get_model_weights(name: Callable | str) -> type[WeightsEnum]:
    """The weights enum class of a model builder (given as the function or its name)."""
    model = get_model_builder(name) if isinstance(name, str) else name
    return _get_enum_from_fn(model)


def _get_enum_from_fn(fn: Callable) -> type[WeightsEnum]:
    if "weights" not in signature(fn).parameters:
        raise ValueError("The method is missing the 'weights' argument.")
    ann = get_type_hints(inspect.unwrap(fn)).get("weights")
    candidates = [ann] if isinstance(ann, type) else getattr(ann, "__args__", ())
    for t in candidates:
        if isinstance(t, type) and issubclass(t, WeightsEnum):
            return t
    raise ValueError("The WeightsEnum class for the specific method couldn't be retrieved. "
                     "Make sure the typing info is correct.")


M = TypeVar("M", bound=Module)

BUILTIN_MODELS: dict[str, Callable[..., Module]] = {}


def register_model(name: str | None = None) -> Callable[[Callable[..., M]], Callable[..., M]]:
    """A decorator that registers a model builder under ``name`` (default: its own name)."""

    def wrapper(fn: Callable[..., M]) -> Callable[..., M]:
        key = name if name is not None else fn.__name__
        if key in BUILTIN_MODELS:
            raise ValueError(f"An entry is already registered under the name '{key}'.")
        BUILTIN_MODELS[key] = fn
        return fn

    return wrapper


def list_models(module: ModuleType | None = None, include: Any = None,
                exclude: Any = None) -> list[str]:
    """The sorted names of the registered models (of one module if ``module`` is given),
    filtered by fnmatch patterns ``include`` / ``exclude``."""
    import fnmatch

    models = {k for k, v in BUILTIN_MODELS.items()
              if module is None or v.__module__.rsplit(".", 1)[0] == module.__name__}
    if include:
        patterns = [include] if isinstance(include, str) else include
        models = {m for m in models if any(fnmatch.fnmatch(m, p) for p in patterns)}
    if exclude:
        patterns = [exclude] if isinstance(exclude, str) else exclude
        models = {m for m in models if not any(fnmatch.fnmatch(m, p) for p in patterns)}
    return sorted(models)


def get_model_builder(name: str) -> Callable[..., Module]:
    """The builder function registered under ``name``."""
    name = name.lower()
    try:
        return BUILTIN_MODELS[name]
    except KeyError:
        raise ValueError(f"Unknown model {name}") from None


def get_model(name: str, **config: Any) -> Module:
    """Build the model registered under ``name`` with the keyword arguments ``config``."""
    return get_model_builder(name)(**config)
