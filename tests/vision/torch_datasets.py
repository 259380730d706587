"""torchvision's FashionMNIST and ToTensor written in the torch API: the oracle for
``ember.vision.datasets`` (torchvision itself is not installed on these machines).

``write_fashion_mnist`` lays out a small FashionMNIST as torchvision leaves it after a
download (``root/FashionMNIST/raw/*-ubyte``, the idx files already extracted), so that
``download=True`` finds it and fetches nothing.
"""

from __future__ import annotations

import gzip
import types
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in the idx format: a magic number for uint8 and its rank, the sizes
    as big-endian int32, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">i4").tobytes()
    return header + np.ascontiguousarray(array, np.uint8).tobytes()


def write_fashion_mnist(root: Path, n_train: int, n_test: int, seed: int = 0,
                        gz: bool = False) -> dict:
    """Random 28x28 images whose labels depend on the pixels (so a network can learn them);
    returns the arrays written, keyed by ``train``."""
    rng = np.random.default_rng(seed)
    raw = Path(root) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    written = {}
    for train, n in ((True, n_train), (False, n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 80, (n, 28, 28)).astype(np.uint8)
        for k, label in enumerate(labels):  # a bright row per class
            images[k, 2 * label + 4, 3:25] = 255
        for name, array in zip(FILES[train], (images, labels)):
            data = idx_bytes(array)
            if gz:
                (raw / f"{name}.gz").write_bytes(gzip.compress(data))
            else:
                (raw / name).write_bytes(data)
        written[train] = (images, labels)
    return written


def _read_idx(path: Path) -> np.ndarray:
    data = path.read_bytes()
    ndim = data[3]
    shape = tuple(np.frombuffer(data[4:4 + 4 * ndim], ">i4"))
    return np.frombuffer(data[4 + 4 * ndim:], np.uint8).reshape(shape)


class ToTensor:
    """An HxW uint8 image to a 1xHxW float tensor in [0, 1]."""

    def __call__(self, pic: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(pic, np.float32)[None] / 255)

    def __repr__(self) -> str:
        return "ToTensor()"


class FashionMNIST(Dataset):
    """torchvision's FashionMNIST over files already on disk (``download`` fetches
    nothing: the tests lay the files out first)."""

    def __init__(self, root, train: bool = True, transform=None, target_transform=None,
                 download: bool = False) -> None:
        raw = Path(root) / "FashionMNIST" / "raw"
        images, labels = FILES[train]
        self.data = torch.from_numpy(_read_idx(raw / images).copy())
        self.targets = torch.from_numpy(_read_idx(raw / labels).astype(np.int64))
        self.transform, self.target_transform = transform, target_transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        img, target = self.data[index].numpy(), int(self.targets[index])
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


def torchvision_datasets_standin() -> types.SimpleNamespace:
    """Enough of torchvision for seed 004's network cells."""
    transforms = types.SimpleNamespace(ToTensor=ToTensor, Lambda=None, Compose=None)
    return types.SimpleNamespace(datasets=types.SimpleNamespace(FashionMNIST=FashionMNIST),
                                 transforms=transforms)

