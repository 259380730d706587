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
        if seed < 0:
            seed += 1 << 64
        if not 0 <= seed < (1 << 64):
            raise RuntimeError(f"Overflow when unpacking long long")
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
        from .creation import tensor
        import pickle
        data = np.frombuffer(pickle.dumps((self._seed, self._rng.bit_generator.state)),
                             dtype=np.uint8)
        return tensor(data.copy())

    def set_state(self, new_state) -> Generator:
        import pickle
        seed, state = pickle.loads(bytes(new_state.numpy().tobytes()))
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


def rng_of(generator) -> np.random.Generator:
    return (generator or default_generator).rng
