"""``ember.hub``: the checkpoint cache and downloads, without network access."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.request

import numpy as np
import pytest
import torch

import ember
import ember.hub as hub


class _FakeResponse(io.BytesIO):
    """What urlopen returns, serving bytes from memory."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self._length = len(data)

    def info(self):
        class Headers:
            def __init__(self, n):
                self.n = n

            def get_all(self, name):
                return [str(self.n)] if name == "Content-Length" else None

        return Headers(self._length)


def _refuse(*args, **kwargs):
    raise AssertionError("network access attempted")


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "ember_home"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setattr(hub, "urlopen", _refuse)
    monkeypatch.setattr(urllib.request, "urlopen", _refuse)
    return tmp_path / "ember_home"


def _checkpoint_bytes(tmp_path) -> tuple[bytes, dict]:
    sd = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "n": torch.tensor(3)}
    path = tmp_path / "src.pth"
    torch.save(sd, path)
    return path.read_bytes(), sd


def _serve(monkeypatch, data: bytes, seen: list) -> None:
    def fake_urlopen(req, *args, **kwargs):
        seen.append(req.full_url)
        return _FakeResponse(data)

    monkeypatch.setattr(hub, "urlopen", fake_urlopen)


def test_get_dir_and_set_dir(home, monkeypatch, tmp_path):
    assert hub.get_dir() == os.path.join(str(home), "hub")
    monkeypatch.delenv("EMBER_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == os.path.join(str(tmp_path / "xdg"), "ember", "hub")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert hub.get_dir() == os.path.expanduser(os.path.join("~", ".cache", "ember", "hub"))
    hub.set_dir(tmp_path / "elsewhere")
    assert hub.get_dir() == str(tmp_path / "elsewhere")
    assert ember.hub is hub


def test_cache_hit_loads_without_network(home, tmp_path, capsys):
    data, sd = _checkpoint_bytes(tmp_path)
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "model-0123abcd.pth").write_bytes(data)
    out = hub.load_state_dict_from_url("https://example.com/models/model-0123abcd.pth",
                                       check_hash=True)
    assert list(out) == ["w", "n"]
    np.testing.assert_array_equal(out["w"].numpy(), sd["w"].numpy())
    assert out["n"].dtype == ember.int64
    assert capsys.readouterr().out == ""  # nothing downloaded, nothing printed
    # file_name and model_dir choose where the cache is looked up
    other = tmp_path / "other"
    other.mkdir()
    (other / "renamed.pth").write_bytes(data)
    out = hub.load_state_dict_from_url("https://example.com/x.pth", model_dir=str(other),
                                       file_name="renamed.pth")
    assert list(out) == ["w", "n"]


def test_download_then_cached(home, tmp_path, monkeypatch, capsys):
    data, sd = _checkpoint_bytes(tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    url = f"https://example.com/models/net-{digest[:8]}.pth"
    seen: list = []
    _serve(monkeypatch, data, seen)
    out = hub.load_state_dict_from_url(url, check_hash=True, progress=False)
    cached = home / "hub" / "checkpoints" / f"net-{digest[:8]}.pth"
    assert capsys.readouterr().out == f'Downloading: "{url}" to {cached}\n'
    assert seen == [url]
    assert cached.read_bytes() == data
    np.testing.assert_array_equal(out["w"].numpy(), sd["w"].numpy())
    # second call: from the cache
    hub.load_state_dict_from_url(url, check_hash=True, progress=False)
    assert seen == [url]
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no partial files


def test_check_hash_mismatch_raises_and_leaves_nothing(home, tmp_path, monkeypatch):
    data, _ = _checkpoint_bytes(tmp_path)
    digest = hashlib.sha256(data).hexdigest()
    _serve(monkeypatch, data, [])
    url = "https://example.com/models/net-deadbeef.pth"
    with pytest.raises(RuntimeError) as e:
        hub.load_state_dict_from_url(url, check_hash=True, progress=False)
    assert str(e.value) == f'invalid hash value (expected "deadbeef", got "{digest}")'
    assert list((home / "hub" / "checkpoints").iterdir()) == []
    # without check_hash the same file is accepted
    out = hub.load_state_dict_from_url(url, progress=False)
    assert list(out) == ["w", "n"]


def test_progress_bar_goes_to_stderr(home, tmp_path, monkeypatch, capsys):
    data, _ = _checkpoint_bytes(tmp_path)
    _serve(monkeypatch, data, [])
    dst = tmp_path / "file.bin"
    hub.download_url_to_file("https://example.com/file.bin", str(dst), progress=True)
    assert dst.read_bytes() == data
    assert "100" in capsys.readouterr().err


def test_legacy_zip_checkpoint(home, tmp_path):
    import zipfile

    data, _ = _checkpoint_bytes(tmp_path)
    checkpoints = home / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    with zipfile.ZipFile(checkpoints / "old.zip", "w") as z:
        z.writestr("old.pth", data)
    with pytest.warns(FutureWarning, match="Falling back to the old format < 1.6"):
        out = hub.load_state_dict_from_url("https://example.com/old.zip")
    assert list(out) == ["w", "n"]
