"""Random number generation: ``Generator``, ``manual_seed`` and the random samplers.

ember draws from NumPy's PCG64; seeding makes runs repeatable, but the numbers differ
from PyTorch's (which uses its own generators).
"""

from __future__ import annotations

import numpy as np

from .device import device as _device

__all__ = ["Generator", "manual_seed", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "default_generator"]

_DEFAULT_SEED = 67280421310721


class Generator:
    """A source of random numbers with its own state (``ember.Generator(device='cpu')``)."""

    def __init__(self, device="cpu") -> None:
        self.device = _device(device)
        self._seed = _DEFAULT_SEED
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        """Reset the state from ``seed``; returns the generator."""
        seed = int(seed)
        if not -(1 << 63) <= seed < (1 << 64):
            raise ValueError("Overflow when unpacking long long")
        if seed < 0:
            seed += 1 << 64  # PyTorch reads the seed as an unsigned 64-bit number
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed))
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source; returns the seed used."""
        s = int(np.random.SeedSequence().entropy) % (1 << 63)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        import pickle

        from .creation import tensor
        data = np.frombuffer(pickle.dumps((self._seed, self._rng.bit_generator.state)),
                             dtype=np.uint8)
        return tensor(data.copy())

    def set_state(self, new_state) -> Generator:
        """Restore a state returned by ``get_state`` (a ``uint8`` tensor)."""
        import pickle
        if getattr(new_state, "dtype", None) is None or new_state.dtype.name != "uint8":
            raise TypeError("RNG state must be a ember.ByteTensor")
        try:
            seed, state = pickle.loads(bytes(new_state.numpy().tobytes()))
        except Exception:
            raise RuntimeError("Expected an ember Generator state, as get_state() returns; "
                               f"got {new_state.numel()} bytes that are not one") from None
        self._seed = seed
        self._rng.bit_generator.state = state
        return self

    @property
    def rng(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and the CUDA ones); returns the default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


def rng_of(generator, name: str = "", got: str = "") -> np.random.Generator:
    """The NumPy generator behind ``generator`` (the default one for None). Anything but an
    ``ember.Generator`` raises PyTorch's TypeError: for op ``name`` called with arguments
    ``got`` (their type names), "received an invalid combination of arguments"."""
    if generator is None:
        return default_generator._rng
    if isinstance(generator, Generator):
        return generator._rng
    what = type(generator).__name__
    if got:
        raise TypeError(f"{name}() received an invalid combination of arguments - got "
                        f"({got}, generator={what})")
    prefix = f"{name}(): " if name else ""
    raise TypeError(f"{prefix}argument 'generator' must be ember.Generator, not {what}")
