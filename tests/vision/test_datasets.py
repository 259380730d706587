"""``ember.vision.datasets``: IDX parsing, ``MNIST``/``FashionMNIST`` as torchvision builds
them (folders, repr, samples, messages, downloads from a local ``file://`` mirror), and the
tutorial cell that loads FashionMNIST. torchvision is not installed: its behaviour is
written out here by hand. Nothing touches the network."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import struct
import tarfile
import zipfile

import numpy as np
import pytest
import torch

import ember
import ember.vision
from ember.utils.data import DataLoader
from ember.vision import datasets
from ember.vision.datasets import mnist as mnist_module
from ember.vision.datasets import utils as dutils
from ember.vision.transforms import Compose, Lambda, ToTensor

N_TRAIN, N_TEST = 130, 70
FILES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
         "t10k-labels-idx1-ubyte")


# ---- a hand-written IDX writer and reader ---------------------------------------------
_CODES = {np.dtype(np.uint8): 8, np.dtype(np.int8): 9, np.dtype(np.int16): 11,
          np.dtype(np.int32): 12, np.dtype(np.float32): 13, np.dtype(np.float64): 14}
_FORMATS = {8: "B", 9: "b", 11: "h", 12: "i", 13: "f", 14: "d"}


def idx_bytes(arr: np.ndarray) -> bytes:
    header = bytes([0, 0, _CODES[arr.dtype], arr.ndim])
    header += b"".join(struct.pack(">I", d) for d in arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def read_idx_by_hand(raw: bytes) -> tuple[list[int], list]:
    """(shape, flat values) of an IDX file, with struct, one value at a time."""
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    assert zero == 0
    shape = list(struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim]))
    count = int(np.prod(shape))
    values = list(struct.unpack(f">{count}{_FORMATS[code]}", raw[4 + 4 * ndim:]))
    return shape, values


def write_idx(path, arr: np.ndarray, gz: bool = False) -> str:
    path = os.fspath(path) + (".gz" if gz else "")
    with (gzip.open if gz else open)(path, "wb") as f:
        f.write(idx_bytes(arr))
    return path


def make_raw(folder, n_train=N_TRAIN, n_test=N_TEST, gz=False, seed=0) -> dict:
    """Random images and labels in ``folder`` under torchvision's file names."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        arrays[f"{split}-images-idx3-ubyte"] = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        arrays[f"{split}-labels-idx1-ubyte"] = rng.integers(0, 10, (n,), dtype=np.uint8)
    for name, arr in arrays.items():
        write_idx(os.path.join(folder, name), arr, gz=gz)
    return arrays


@pytest.fixture
def fashion(tmp_path):
    arrays = make_raw(tmp_path / "FashionMNIST" / "raw")
    return tmp_path, arrays


# ---- IDX parsing ------------------------------------------------------------------------
@pytest.mark.parametrize("dtype,shape", [(np.uint8, (5, 4, 3)), (np.uint8, (7,)),
                                         (np.int8, (3, 2)), (np.int16, (2, 3, 4)),
                                         (np.int32, (6,)), (np.float32, (2, 5)),
                                         (np.float64, (3, 1, 2))])
@pytest.mark.parametrize("gz", [False, True])
def test_idx_parsing_matches_a_hand_written_reader(tmp_path, dtype, shape, gz):
    rng = np.random.default_rng(1)
    arr = (rng.standard_normal(shape) * 1000).astype(dtype) if np.dtype(dtype).kind != "u" \
        else rng.integers(0, 256, shape, dtype=dtype)
    path = write_idx(tmp_path / "x-idx", arr, gz=gz)
    got = mnist_module.read_sn3_pascalvincent_tensor(path)
    shape_by_hand, values = read_idx_by_hand(idx_bytes(arr))
    assert list(got.shape) == shape_by_hand
    assert got.dtype == ember.from_numpy(np.zeros(1, dtype)).dtype
    np.testing.assert_array_equal(got.numpy().ravel(), np.array(values, dtype=dtype))


def test_image_and_label_files(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], np.uint8)
    x = mnist_module.read_image_file(write_idx(tmp_path / "i", images))
    y = mnist_module.read_label_file(write_idx(tmp_path / "l", labels))
    assert x.dtype == ember.uint8 and x.shape == ember.Size([4, 28, 28])
    assert y.dtype == ember.int64 and y.tolist() == [3, 1, 4, 1]
    np.testing.assert_array_equal(x.numpy(), images)


def test_bad_idx_files(tmp_path):
    with pytest.raises(TypeError, match="x should be of dtype ember.uint8 instead of "
                                        "ember.int16"):
        mnist_module.read_label_file(write_idx(tmp_path / "a", np.zeros(3, np.int16)))
    with pytest.raises(ValueError, match="x should have 1 dimension instead of 2"):
        mnist_module.read_label_file(write_idx(tmp_path / "b", np.zeros((3, 2), np.uint8)))
    with pytest.raises(ValueError, match="x should have 3 dimension instead of 2"):
        mnist_module.read_image_file(write_idx(tmp_path / "c", np.zeros((3, 2), np.uint8)))
    (tmp_path / "d").write_bytes(b"\x00\x00\x08\x09" + b"\x00" * 40)
    with pytest.raises(AssertionError):
        mnist_module.read_sn3_pascalvincent_tensor(tmp_path / "d")
    (tmp_path / "e").write_bytes(idx_bytes(np.zeros((2, 3), np.uint8))[:-1])
    with pytest.raises(AssertionError):
        mnist_module.read_sn3_pascalvincent_tensor(tmp_path / "e")
    with pytest.raises(RuntimeError, match=r"shape '\[2, 3\]' is invalid for input of size 5"):
        mnist_module.read_sn3_pascalvincent_tensor(tmp_path / "e", strict=False)


# ---- MNIST / FashionMNIST ----------------------------------------------------------------
def test_fashion_mnist_reads_the_raw_folder(fashion):
    root, arrays = fashion
    train = datasets.FashionMNIST(root=str(root), train=True)
    test = datasets.FashionMNIST(root=str(root), train=False)
    assert len(train) == N_TRAIN and len(test) == N_TEST
    assert train.data.dtype == ember.uint8 and train.data.shape == ember.Size([N_TRAIN, 28, 28])
    assert train.targets.dtype == ember.int64 and train.targets.shape == ember.Size([N_TRAIN])
    np.testing.assert_array_equal(train.data.numpy(), arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(test.targets.numpy(), arrays["t10k-labels-idx1-ubyte"])
    assert train.classes == ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                             "Shirt", "Sneaker", "Bag", "Ankle boot"]
    assert train.class_to_idx["Bag"] == 8
    assert train.raw_folder == os.path.join(str(root), "FashionMNIST", "raw")
    assert isinstance(train, ember.utils.data.Dataset)


def test_mnist_and_gz_files(tmp_path):
    arrays = make_raw(tmp_path / "MNIST" / "raw", n_train=9, n_test=5, gz=True)
    ds = datasets.MNIST(tmp_path, train=False)  # a pathlib.Path root, gzip'd files
    assert len(ds) == 5 and ds.classes[3] == "3 - three"
    np.testing.assert_array_equal(ds.data.numpy(), arrays["t10k-images-idx3-ubyte"])
    assert "Root location: " + str(tmp_path) in repr(ds)


def test_resources_and_mirrors_are_torchvisions():
    assert datasets.FashionMNIST.mirrors == [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    assert dict(datasets.FashionMNIST.resources) == {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}
    assert dict(datasets.MNIST.resources) == {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    assert datasets.MNIST.mirrors == ["http://yann.lecun.com/exdb/mnist/",
                                      "https://ossci-datasets.s3.amazonaws.com/mnist/"]


def test_repr_is_torchvisions(fashion, monkeypatch):
    root, _ = fashion
    monkeypatch.chdir(root.parent)
    rel = os.path.join(root.name)
    ds = datasets.FashionMNIST(root=rel, train=True, transform=ToTensor())
    assert repr(ds) == ("Dataset FashionMNIST\n"
                        "    Number of datapoints: 130\n"
                        f"    Root location: {rel}\n"
                        "    Split: Train\n"
                        "    StandardTransform\n"
                        "Transform: ToTensor()")
    ds = datasets.FashionMNIST(root=rel, train=False)
    assert repr(ds) == ("Dataset FashionMNIST\n    Number of datapoints: 70\n"
                        f"    Root location: {rel}\n    Split: Test")
    ds = datasets.FashionMNIST(root=rel, train=False,
                               transform=Compose([ToTensor(), Lambda(lambda x: x)]),
                               target_transform=Lambda(int))
    assert repr(ds).endswith("    Split: Test\n"
                             "    StandardTransform\n"
                             "Transform: Compose(\n"
                             "               ToTensor()\n"
                             "               Lambda()\n"
                             "           )\n"
                             "Target transform: Lambda()")


def test_getitem_and_to_tensor(fashion):
    root, arrays = fashion
    ds = datasets.FashionMNIST(root, train=True)
    img, target = ds[5]
    assert isinstance(target, int) and target == int(arrays["train-labels-idx1-ubyte"][5])
    x = ToTensor()(img)
    assert x.dtype == ember.float32 and x.shape == ember.Size([1, 28, 28])
    # torchvision: to_tensor(PIL 'L' image) = uint8 values / 255 in the default dtype
    ref = torch.from_numpy(arrays["train-images-idx3-ubyte"][5]).unsqueeze(0).float().div(255)
    np.testing.assert_array_equal(x.numpy(), ref.numpy())
    assert 0.0 <= x.min().item() and x.max().item() <= 1.0

    ds = datasets.FashionMNIST(root, train=True, transform=ToTensor(),
                               target_transform=lambda t: t + 100)
    x2, t2 = ds[5]
    np.testing.assert_array_equal(x2.numpy(), x.numpy())
    assert t2 == target + 100


def test_getitem_without_pillow_is_a_numpy_copy(fashion, monkeypatch):
    root, arrays = fashion
    monkeypatch.setattr(mnist_module, "_pil_image_module", lambda: None)
    ds = datasets.FashionMNIST(root)
    img, _ = ds[0]
    assert isinstance(img, np.ndarray) and img.dtype == np.uint8 and img.shape == (28, 28)
    img[:] = 0  # a copy: the dataset is unchanged
    np.testing.assert_array_equal(ds.data[0].numpy(), arrays["train-images-idx3-ubyte"][0])


def test_getitem_with_pillow_is_an_L_image(fashion):
    image = pytest.importorskip("PIL.Image")
    root, arrays = fashion
    img, _ = datasets.FashionMNIST(root)[3]
    assert isinstance(img, image.Image) and img.mode == "L" and img.size == (28, 28)
    np.testing.assert_array_equal(np.asarray(img), arrays["train-images-idx3-ubyte"][3])


def test_missing_files_and_bad_arguments(tmp_path):
    with pytest.raises(RuntimeError) as e:
        datasets.FashionMNIST(root=tmp_path, train=True, download=False)
    assert str(e.value) == "Dataset not found. You can use download=True to download it"
    make_raw(tmp_path / "FashionMNIST" / "raw")
    os.remove(tmp_path / "FashionMNIST" / "raw" / "t10k-labels-idx1-ubyte")
    for train in (True, False):  # as in torchvision, all four files must be there
        with pytest.raises(RuntimeError, match="Dataset not found"):
            datasets.FashionMNIST(root=tmp_path, train=train)
    with pytest.raises(ValueError, match="Only transforms or transform/target_transform can "
                                         "be passed as argument"):
        datasets.VisionDataset(tmp_path, transforms=lambda a, b: (a, b), transform=ToTensor())
    with pytest.raises(TypeError):
        datasets.FashionMNIST()


def test_legacy_processed_files_are_loaded(tmp_path):
    processed = tmp_path / "MNIST" / "processed"
    processed.mkdir(parents=True)
    data = ember.from_numpy(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))
    ember.save((data, ember.tensor([7, 1])), processed / "training.pt")
    ember.save((data[:1], ember.tensor([4])), processed / "test.pt")
    ds = datasets.MNIST(tmp_path, train=False)
    assert len(ds) == 1 and ds.targets.tolist() == [4]
    assert ToTensor()(ds[0][0]).shape == ember.Size([1, 28, 28])


# ---- download ---------------------------------------------------------------------------
@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A local folder with the four ``.gz`` files, as ``file://`` mirror, and their MD5s."""
    src = tmp_path / "mirror"
    arrays = make_raw(src, n_train=6, n_test=4, gz=True)
    resources = [(name + ".gz", hashlib.md5((src / (name + ".gz")).read_bytes()).hexdigest())
                 for name in FILES]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", resources)
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [src.as_uri() + "/"])
    return src.as_uri() + "/", arrays


def _run(fn):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result = fn()
    return result, out.getvalue()


def test_download_prints_torchvisions_lines(tmp_path, mirror, monkeypatch):
    url, arrays = mirror
    monkeypatch.chdir(tmp_path)
    ds, out = _run(lambda: datasets.FashionMNIST(root="data", train=True, download=True))
    raw = os.path.join("data", "FashionMNIST", "raw")
    expected = ""
    for name in FILES:
        expected += (f"Downloading {url}{name}.gz\n"
                     f"Downloading {url}{name}.gz to {raw}/{name}.gz\n"
                     f"Extracting {raw}/{name}.gz to {raw}\n\n")
    assert out == expected
    for name in FILES:
        assert os.path.isfile(os.path.join(raw, name))
        assert os.path.isfile(os.path.join(raw, name + ".gz"))
    np.testing.assert_array_equal(ds.data.numpy(), arrays["train-images-idx3-ubyte"])
    # present and intact: no download, nothing printed
    ds, out = _run(lambda: datasets.FashionMNIST(root="data", train=False, download=True))
    assert out == "" and len(ds) == 4


def test_download_uses_verified_archives_and_tries_mirrors_in_order(tmp_path, mirror,
                                                                     monkeypatch):
    url, _ = mirror
    missing = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [missing, url])
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    first = FILES[0] + ".gz"
    (raw / first).write_bytes((tmp_path / "mirror" / first).read_bytes())
    _, out = _run(lambda: datasets.FashionMNIST(root=str(tmp_path), download=True))
    lines = out.split("\n")
    assert lines[:4] == [f"Downloading {missing}{first}",
                         f"Using downloaded and verified file: {raw}/{first}",
                         f"Extracting {raw}/{first} to {raw}", ""]
    assert lines[4] == f"Downloading {missing}{FILES[1]}.gz"
    assert lines[5] == f"Downloading {missing}{FILES[1]}.gz to {raw}/{FILES[1]}.gz"
    assert lines[6] == "Failed to download (trying next):"
    assert lines[7].startswith("<urlopen error ")
    assert lines[8:11] == ["", f"Downloading {url}{FILES[1]}.gz",
                           f"Downloading {url}{FILES[1]}.gz to {raw}/{FILES[1]}.gz"]


def test_download_errors(tmp_path, mirror, monkeypatch):
    url, _ = mirror
    missing = (tmp_path / "nowhere").as_uri() + "/"
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [missing])
    with pytest.raises(RuntimeError, match="^Error downloading train-images-idx3-ubyte.gz$"):
        _run(lambda: datasets.FashionMNIST(root=str(tmp_path / "a"), download=True))
    monkeypatch.setattr(datasets.FashionMNIST, "mirrors", [url])
    bad = [(name, "0" * 32) for name, _ in datasets.FashionMNIST.resources]
    monkeypatch.setattr(datasets.FashionMNIST, "resources", bad)
    with pytest.raises(RuntimeError, match="^File not found or corrupted.$"):
        _run(lambda: datasets.FashionMNIST(root=str(tmp_path / "b"), download=True))


def test_download_url_retries_https_as_http(tmp_path, monkeypatch):
    calls = []

    def fake(url, filename, chunk_size=0):
        calls.append(url)
        if url.startswith("https"):
            raise dutils.urllib.error.URLError("refused")
        with open(filename, "wb") as f:
            f.write(b"abc")

    monkeypatch.setattr(dutils, "_urlretrieve", fake)
    _, out = _run(lambda: dutils.download_url("https://example.invalid/f.bin", tmp_path,
                                              md5=hashlib.md5(b"abc").hexdigest()))
    assert calls == ["https://example.invalid/f.bin", "http://example.invalid/f.bin"]
    assert "Failed download. Trying https -> http instead." in out


def test_extract_archive(tmp_path):
    (tmp_path / "a.txt").write_text("hello")
    with tarfile.open(tmp_path / "x.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "a.txt", arcname="a.txt")
    with zipfile.ZipFile(tmp_path / "y.zip", "w") as zf:
        zf.write(tmp_path / "a.txt", arcname="b.txt")
    out = tmp_path / "out"
    out.mkdir()
    dutils.extract_archive(str(tmp_path / "x.tar.gz"), str(out))
    dutils.extract_archive(str(tmp_path / "y.zip"), str(out))
    assert (out / "a.txt").read_text() == (out / "b.txt").read_text() == "hello"
    with pytest.raises(RuntimeError, match="Unknown compression or archive type: '.rar'"):
        dutils.extract_archive(str(tmp_path / "z.rar"))
    assert dutils.verify_str_arg("a", "split", ("a", "b")) == "a"
    with pytest.raises(ValueError, match="Unknown value 'c' for argument split. Valid values "
                                         "are {'a', 'b'}."):
        dutils.verify_str_arg("c", "split", ("a", "b"))


def test_import_paths():
    from ember.vision import datasets as d

    assert d is ember.vision.datasets and d.FashionMNIST.__name__ == "FashionMNIST"
    assert issubclass(d.FashionMNIST, d.MNIST) and issubclass(d.MNIST, d.VisionDataset)
    assert isinstance(DataLoader, type)
