"""``ember.hub`` side by side with ``torch.hub``, over ``file://`` URLs (no network): what is
printed, what lands in the cache and where, the hash check, the progress output, legacy
zip checkpoints, and the cache directory's environment variables (``$EMBER_HOME`` for
ember, as ``$TORCH_HOME`` is torch's)."""

from __future__ import annotations

import hashlib
import os
import warnings
import zipfile

import numpy as np
import pytest
import torch
import torch.hub as thub

import ember
import ember.hub as hub


@pytest.fixture
def homes(tmp_path, monkeypatch):
    """Separate cache homes for torch and ember, and a checkpoint to serve."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("EMBER_HOME", str(tmp_path / "ember_home"))
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setattr(thub, "_hub_dir", None)
    sd = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3), "n": torch.tensor(3)}
    src = tmp_path / "served"
    src.mkdir()
    torch.save(sd, src / "plain.pth")
    data = (src / "plain.pth").read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    (src / f"net-{digest[:10]}.pth").write_bytes(data)
    (src / "net-0badc0de.pth").write_bytes(data)
    return tmp_path, src, digest


def _both(capsys, call):
    """Run ``call(module)`` for torch.hub and ember.hub: (result or exception, stdout,
    stderr, warnings) for each."""
    outcomes = []
    for module in (thub, hub):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                result = call(module)
            except Exception as exc:  # noqa: BLE001 - compared with torch's
                result = exc
        out, err = capsys.readouterr()
        outcomes.append((result, out, err, [(x.category, str(x.message)) for x in w]))
    return outcomes


def _rel(text, tmp_path, module):
    return text.replace(str(tmp_path / ("torch_home" if module is thub else "ember_home")), "HOME")


def _same_state_dicts(e, t):
    assert list(e) == list(t)
    for k in t:
        np.testing.assert_array_equal(e[k].numpy(), t[k].numpy())
        assert e[k].dtype.name == str(t[k].dtype).split(".")[1]


@pytest.mark.parametrize("name,check_hash", [("plain.pth", False), ("plain.pth", True),
                                             ("HASH", True), ("HASH", False),
                                             ("net-0badc0de.pth", False)])
@pytest.mark.parametrize("progress", [False, True])
def test_download_cache_and_reload(homes, capsys, name, check_hash, progress):
    tmp_path, src, digest = homes
    name = f"net-{digest[:10]}.pth" if name == "HASH" else name
    url = (src / name).as_uri()
    (t, t_out, t_err, t_w), (e, e_out, e_err, e_w) = _both(
        capsys, lambda m: m.load_state_dict_from_url(url, check_hash=check_hash,
                                                     progress=progress))
    _same_state_dicts(e, t)
    assert _rel(e_out, tmp_path, hub) == _rel(t_out, tmp_path, thub) == \
        f'Downloading: "{url}" to HOME{os.sep}hub{os.sep}checkpoints{os.sep}{name}\n'
    assert e_err == t_err and e_w == t_w
    for home in ("torch_home", "ember_home"):  # the same layout, nothing partial left
        assert sorted(os.listdir(tmp_path / home / "hub" / "checkpoints")) == [name]
    # the second time from the cache: nothing printed
    (t, t_out, _, _), (e, e_out, _, _) = _both(
        capsys, lambda m: m.load_state_dict_from_url(url, check_hash=check_hash))
    _same_state_dicts(e, t)
    assert e_out == t_out == ""


def test_hash_mismatch_file_name_and_model_dir(homes, capsys):
    tmp_path, src, digest = homes
    url = (src / "net-0badc0de.pth").as_uri()
    (t, t_out, _, _), (e, e_out, _, _) = _both(
        capsys, lambda m: m.load_state_dict_from_url(url, check_hash=True, progress=False))
    assert type(e) is type(t) is RuntimeError and str(e) == str(t)
    assert str(t) == f'invalid hash value (expected "0badc0de", got "{digest}")'
    for home in ("torch_home", "ember_home"):
        assert os.listdir(tmp_path / home / "hub" / "checkpoints") == []

    def elsewhere(m):
        d = tmp_path / ("t_dir" if m is thub else "e_dir")
        return m.load_state_dict_from_url(url, model_dir=str(d), file_name="x.pt",
                                          progress=False), sorted(os.listdir(d))

    ((t, t_files), _, _, _), ((e, e_files), _, _, _) = _both(capsys, elsewhere)
    _same_state_dicts(e, t)
    assert e_files == t_files == ["x.pt"]


def test_download_url_to_file(homes, capsys):
    tmp_path, src, digest = homes

    def call(m, url, prefix=None):
        dst = tmp_path / ("t.bin" if m is thub else "e.bin")
        m.download_url_to_file(url, str(dst), hash_prefix=prefix, progress=True)
        return dst.read_bytes()

    good = (src / "plain.pth").as_uri()
    (t, _, t_err, _), (e, _, e_err, _) = _both(capsys, lambda m: call(m, good, digest[:4]))
    assert e == t and e_err == t_err
    missing = (src / "missing.pth").as_uri()
    (t, _, _, _), (e, _, _, _) = _both(capsys, lambda m: call(m, missing))
    assert type(e) is type(t) and str(e) == str(t)
    (t, _, _, _), (e, _, _, _) = _both(capsys, lambda m: call(m, good, "ffff"))
    assert type(e) is type(t) and str(e) == str(t)
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith(".partial")) == []


def test_legacy_zip_checkpoints(homes, capsys):
    tmp_path, src, _ = homes
    data = (src / "plain.pth").read_bytes()
    with zipfile.ZipFile(src / "old.zip", "w") as z:
        z.writestr("inner.pth", data)
    with zipfile.ZipFile(src / "evil.zip", "w") as z:
        z.writestr("../escaped.pth", data)
    url = (src / "old.zip").as_uri()
    (t, _, _, t_w), (e, _, _, e_w) = _both(
        capsys, lambda m: m.load_state_dict_from_url(url, progress=False))
    _same_state_dicts(e, t)
    assert e_w == t_w and t_w[0][0] is FutureWarning
    for home in ("torch_home", "ember_home"):
        assert sorted(os.listdir(tmp_path / home / "hub" / "checkpoints")) == \
            ["inner.pth", "old.zip"]
    url = (src / "evil.zip").as_uri()
    (t, _, _, _), (e, _, _, _) = _both(
        capsys, lambda m: m.load_state_dict_from_url(url, progress=False))
    assert type(e) is type(t) is ValueError and str(e) == str(t)
    assert not (tmp_path / "torch_home" / "hub" / "escaped.pth").exists()
    assert not (tmp_path / "ember_home" / "hub" / "escaped.pth").exists()


def test_cache_directory_environment(tmp_path, monkeypatch):
    monkeypatch.setattr(hub, "_hub_dir", None)
    monkeypatch.setattr(thub, "_hub_dir", None)
    for var in ("TORCH_HOME", "EMBER_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    # the defaults: ~/.cache/<library>/hub
    assert hub.get_dir() == thub.get_dir().replace(os.sep + "torch" + os.sep,
                                                   os.sep + "ember" + os.sep)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hub.get_dir() == str(tmp_path / "xdg" / "ember" / "hub")
    assert thub.get_dir() == str(tmp_path / "xdg" / "torch" / "hub")
    # $TORCH_HOME is torch's, $EMBER_HOME ember's; each wins over $XDG_CACHE_HOME
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert thub.get_dir() == str(tmp_path / "th" / "hub")
    assert hub.get_dir() == str(tmp_path / "xdg" / "ember" / "hub")
    monkeypatch.setenv("EMBER_HOME", "~/eh")
    assert hub.get_dir() == os.path.expanduser(os.path.join("~", "eh", "hub"))
    monkeypatch.setenv("TORCH_HOME", "~/eh")
    assert hub.get_dir() == thub.get_dir()  # both expand ~
    for m in (thub, hub):  # set_dir wins, with ~ expanded
        m.set_dir("~/chosen")
    assert hub.get_dir() == thub.get_dir() == os.path.expanduser("~/chosen")
    assert ember.hub is hub
