"""``MNIST`` and ``FashionMNIST`` (torchvision's ``datasets.mnist``).

The data is read from ``root/<ClassName>/raw/`` as IDX files (LeCun's format, also called
SN3 "Pascal Vincent"), plain or gzip-compressed: ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``
(each optionally with ``.gz``). ``download=True`` fetches the ``.gz`` files from the
class's ``mirrors`` in order, checks their MD5 and decompresses them, printing what
torchvision prints.

A sample is ``(image, target)``: the image is a PIL ``'L'`` image where Pillow is
installed, as in torchvision; without Pillow it is the ``28 x 28`` ``uint8`` NumPy array
(a copy), which ``transforms.ToTensor()`` turns into the same ``1 x 28 x 28`` float tensor
in [0, 1].
"""

from __future__ import annotations

import gzip
import os
import pathlib
import warnings
from collections.abc import Callable
from typing import Any
from urllib.error import URLError

import numpy as np

from ...creation import from_numpy
from ...dtype import int64, uint8
from ...tensor import Tensor
from .utils import check_integrity, download_and_extract_archive
from .vision import VisionDataset

__all__ = ["MNIST", "FashionMNIST", "read_sn3_pascalvincent_tensor", "read_image_file",
           "read_label_file"]


def _pil_image_module() -> Any:
    try:
        from PIL import Image
    except ImportError:
        return None
    return Image


class MNIST(VisionDataset):
    """The `MNIST <http://yann.lecun.com/exdb/mnist/>`_ handwritten digits.

    Args:
        root (str or ``pathlib.Path``): the directory that holds ``MNIST/raw/``.
        train (bool, optional): the training set (``train-*``) if True, else the test set
            (``t10k-*``). Default: True.
        transform (callable, optional): applied to the image (a PIL image, or a NumPy
            ``uint8`` array without Pillow), e.g. ``transforms.ToTensor()``.
        target_transform (callable, optional): applied to the target (an int).
        download (bool, optional): download the files into ``root/MNIST/raw/`` unless they
            are there already. Default: False.

    Attributes:
        data (Tensor): ``uint8`` images, ``N x 28 x 28``.
        targets (Tensor): ``int64`` labels, ``N``.
        classes (list[str]): the class names.
    """

    mirrors = [
        "http://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    ]

    resources = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]

    training_file = "training.pt"
    test_file = "test.pt"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    @property
    def train_labels(self) -> Tensor:
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self) -> Tensor:
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self) -> Tensor:
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self) -> Tensor:
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data

    def __init__(self, root: str | pathlib.Path, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train  # training set or test set
        if self._check_legacy_exist():
            self.data, self.targets = self._load_legacy_data()
            return
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self.data, self.targets = self._load_data()

    def _check_legacy_exist(self) -> bool:
        if not os.path.exists(self.processed_folder):
            return False
        return all(check_integrity(os.path.join(self.processed_folder, file))
                   for file in (self.training_file, self.test_file))

    def _load_legacy_data(self) -> tuple[Tensor, Tensor]:
        # The (data, targets) pair old torchvision versions saved with torch.save.
        from ...serialization import load
        data_file = self.training_file if self.train else self.test_file
        return load(os.path.join(self.processed_folder, data_file), weights_only=True)

    def _raw_file(self, name: str) -> str:
        """The path of raw file ``name``: as it is, else its ``.gz``."""
        path = os.path.join(self.raw_folder, name)
        return path if os.path.isfile(path) or not os.path.isfile(path + ".gz") else path + ".gz"

    def _load_data(self) -> tuple[Tensor, Tensor]:
        split = "train" if self.train else "t10k"
        data = read_image_file(self._raw_file(f"{split}-images-idx3-ubyte"))
        targets = read_label_file(self._raw_file(f"{split}-labels-idx1-ubyte"))
        return data, targets

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """The sample at ``index``: ``(image, target)``, where target is the class index.

        The image is a PIL ``'L'`` image if Pillow is installed, else a ``28 x 28`` ``uint8``
        NumPy array; ``transform`` and ``target_transform`` are applied if given.
        """
        img = self.data[index].numpy()
        target = int(self.targets[index])
        image_module = _pil_image_module()
        # consistent with the other datasets: a PIL image (or an array of its own)
        img = image_module.fromarray(img) if image_module is not None else img.copy()
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self) -> int:
        return len(self.data)

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def processed_folder(self) -> str:
        return os.path.join(self.root, self.__class__.__name__, "processed")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {_class: i for i, _class in enumerate(self.classes)}

    def _check_exists(self) -> bool:
        names = (os.path.splitext(os.path.basename(url))[0] for url, _ in self.resources)
        return all(check_integrity(self._raw_file(name)) for name in names)

    def download(self) -> None:
        """Download the data if it is not there already: each file from the first mirror
        that serves it, checked against its MD5, then decompressed."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            for mirror in self.mirrors:
                url = f"{mirror}{filename}"
                try:
                    print(f"Downloading {url}")
                    download_and_extract_archive(url, download_root=self.raw_folder,
                                                 filename=filename, md5=md5)
                except URLError as error:
                    print(f"Failed to download (trying next):\n{error}")
                    continue
                finally:
                    print()
                break
            else:
                raise RuntimeError(f"Error downloading {filename}")

    def extra_repr(self) -> str:
        split = "Train" if self.train is True else "Test"
        return f"Split: {split}"


class FashionMNIST(MNIST):
    """`Fashion-MNIST <https://github.com/zalandoresearch/fashion-mnist>`_: Zalando's
    article images, 28 x 28 grayscale, in 10 classes.

    Args:
        root (str or ``pathlib.Path``): the directory that holds ``FashionMNIST/raw/``.
        train (bool, optional): the training set (``train-*``) if True, else the test set
            (``t10k-*``). Default: True.
        transform (callable, optional): applied to the image, e.g. ``transforms.ToTensor()``.
        target_transform (callable, optional): applied to the target (an int).
        download (bool, optional): download the files into ``root/FashionMNIST/raw/``
            unless they are there already. Default: False.
    """

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]

    resources = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


# IDX type codes -> big-endian NumPy dtypes
SN3_PASCALVINCENT_TYPEMAP = {
    8: np.dtype(">u1"),
    9: np.dtype(">i1"),
    11: np.dtype(">i2"),
    12: np.dtype(">i4"),
    13: np.dtype(">f4"),
    14: np.dtype(">f8"),
}


def read_sn3_pascalvincent_tensor(path: str | pathlib.Path, strict: bool = True) -> Tensor:
    """Read an IDX ("SN3 Pascal Vincent") file, plain or ``.gz``, into a tensor.

    The header is two zero bytes, a type code (8: uint8, 9: int8, 11: int16, 12: int32,
    13: float32, 14: float64), the number of dims, then each dim as a big-endian int32;
    the values follow, big-endian.
    """
    opener = gzip.open if os.fspath(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    nd = magic % 256
    ty = magic // 256
    assert 1 <= nd <= 3
    assert 8 <= ty <= 14
    np_type = SN3_PASCALVINCENT_TYPEMAP[ty]
    s = [int.from_bytes(data[4 * (i + 1):4 * (i + 2)], "big") for i in range(nd)]
    parsed = np.frombuffer(data, dtype=np_type, offset=4 * (nd + 1))
    assert parsed.shape[0] == np.prod(s) or not strict
    if parsed.size != int(np.prod(s)):
        raise RuntimeError(f"shape '{s}' is invalid for input of size {parsed.size}")
    return from_numpy(parsed.astype(np_type.newbyteorder("=")).reshape(s))


def read_label_file(path: str | pathlib.Path) -> Tensor:
    """The labels of an IDX label file, as an ``int64`` tensor."""
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != uint8:
        raise TypeError(f"x should be of dtype ember.uint8 instead of {x.dtype}")
    if x.dim() != 1:
        raise ValueError(f"x should have 1 dimension instead of {x.dim()}")
    return x.to(int64)


def read_image_file(path: str | pathlib.Path) -> Tensor:
    """The images of an IDX image file, as a ``uint8`` tensor ``N x H x W``."""
    x = read_sn3_pascalvincent_tensor(path, strict=False)
    if x.dtype != uint8:
        raise TypeError(f"x should be of dtype ember.uint8 instead of {x.dtype}")
    if x.dim() != 3:
        raise ValueError(f"x should have 3 dimension instead of {x.dim()}")
    return x
