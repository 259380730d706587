"""``ember.hub``: download checkpoints once and load them from a local cache (``torch.hub``).

The cache lives in ``get_dir()``: ``$EMBER_HOME/hub``, where ``$EMBER_HOME`` defaults to
``$XDG_CACHE_HOME/ember`` and ``$XDG_CACHE_HOME`` to ``~/.cache``. A checkpoint already in
``<hub>/checkpoints/`` is loaded without any network access.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import sys
import tempfile
import uuid
import warnings
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import Request, urlopen

__all__ = ["get_dir", "set_dir", "download_url_to_file", "load_state_dict_from_url"]

# matches bfd8deac from resnet18-bfd8deac.pth
HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
ENV_EMBER_HOME = "EMBER_HOME"
ENV_XDG_CACHE_HOME = "XDG_CACHE_HOME"
DEFAULT_CACHE_DIR = "~/.cache"
READ_DATA_CHUNK = 128 * 1024

_hub_dir: str | None = None


def _get_ember_home() -> str:
    return os.path.expanduser(os.getenv(
        ENV_EMBER_HOME, os.path.join(os.getenv(ENV_XDG_CACHE_HOME, DEFAULT_CACHE_DIR), "ember")))


def get_dir() -> str:
    """The hub cache directory, where downloaded models and weights are stored.

    Unless ``set_dir`` was called, it is ``$EMBER_HOME/hub``; ``$EMBER_HOME`` defaults to
    ``$XDG_CACHE_HOME/ember`` and ``$XDG_CACHE_HOME`` to ``~/.cache``.
    """
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_ember_home(), "hub")


def set_dir(d: str | os.PathLike) -> None:
    """Use ``d`` as the hub cache directory from now on."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


class _Progress:
    """A minimal progress bar on stderr, used when tqdm is not installed."""

    def __init__(self, total: int | None = None, disable: bool = False, **kwargs: Any) -> None:
        self.total = total
        self.disable = disable
        self.n = 0

    def update(self, n: int) -> None:
        if self.disable:
            return
        self.n += n
        if self.total is None:
            sys.stderr.write(f"\r{self.n:.1f} bytes")
        else:
            sys.stderr.write(f"\r{100 * self.n / float(self.total):.1f}%")
        sys.stderr.flush()

    def __enter__(self) -> _Progress:
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self.disable:
            sys.stderr.write("\n")


def _progress_bar(**kwargs: Any):
    try:
        from tqdm import tqdm
    except ImportError:
        return _Progress(**kwargs)
    return tqdm(**kwargs)


def download_url_to_file(url: str, dst: str, hash_prefix: str | None = None,
                         progress: bool = True) -> None:
    """Download ``url`` to the local path ``dst``.

    The file is written to a temporary name beside ``dst`` and moved into place only when
    complete (and, with ``hash_prefix``, only if its SHA256 digest starts with it), so a
    broken download never leaves a corrupt checkpoint in the cache.

    Args:
        url: the address of the object.
        dst: where to save it.
        hash_prefix: if not None, the SHA256 of the file must start with it.
        progress: whether to show a progress bar on stderr. Default: True.

    Raises:
        RuntimeError: ``invalid hash value (expected "...", got "...")``.
    """
    dst = os.path.expanduser(dst)
    for _ in range(tempfile.TMP_MAX):
        tmp_dst = dst + "." + uuid.uuid4().hex + ".partial"
        try:
            f = open(tmp_dst, "x+b")  # noqa: SIM115 - closed below, removed on failure
        except FileExistsError:
            continue
        break
    else:
        raise FileExistsError(errno.EEXIST, "No usable temporary file name found")
    req = Request(url, headers={"User-Agent": "ember.hub"})
    try:
        with urlopen(req) as u:
            lengths = u.info().get_all("Content-Length")
            file_size = int(lengths[0]) if lengths else None
            sha256 = hashlib.sha256() if hash_prefix is not None else None
            with _progress_bar(total=file_size, disable=not progress, unit="B",
                               unit_scale=True, unit_divisor=1024) as bar:
                while True:
                    buffer = u.read(READ_DATA_CHUNK)
                    if len(buffer) == 0:
                        break
                    f.write(buffer)
                    if sha256 is not None:
                        sha256.update(buffer)
                    bar.update(len(buffer))
        f.close()
        if sha256 is not None:
            digest = sha256.hexdigest()
            if digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got '
                                   f'"{digest}")')
        os.replace(tmp_dst, dst)
    finally:
        f.close()
        if os.path.exists(tmp_dst):
            os.remove(tmp_dst)


def _is_legacy_zip_format(filename: str) -> bool:
    """Old checkpoints were a zip holding one file that is the real checkpoint."""
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as zf:
            infolist = zf.infolist()
        return len(infolist) == 1 and not infolist[0].is_dir()
    return False


def _safe_extract_zip(zip_file: zipfile.ZipFile, extract_to: str) -> None:
    """Extract every member of ``zip_file`` under ``extract_to``, refusing (``ValueError``)
    absolute paths, ``..`` components and anything else that would land outside it."""
    root = Path(extract_to).resolve(strict=False)
    for member in zip_file.infolist():
        name = os.path.normpath(member.filename)
        if name.startswith(("/", "\\")) or (len(name) >= 2 and name[1] == ":"
                                             and name[0].isalpha()):
            raise ValueError(f"Archive entry has absolute path: {member.filename}")
        if ".." in re.split(r"[/\\]", name):
            raise ValueError(f"Archive entry contains directory traversal: {member.filename}")
        if not (root / name).resolve(strict=False).is_relative_to(root):
            raise ValueError(f"Archive entry escapes target directory: {member.filename}")
        zip_file.extract(member, root)


def _legacy_zip_load(filename: str, model_dir: str, map_location, weights_only: bool):
    from .serialization import load

    warnings.warn("Falling back to the old format < 1.6. This support will be deprecated in "
                  "favor of default zipfile format introduced in 1.6. Please redo torch.save() "
                  "to save it in the new zipfile format.", FutureWarning, stacklevel=3)
    with zipfile.ZipFile(filename) as f:
        members = f.infolist()
        if len(members) != 1:
            raise RuntimeError("Only one file(not dir) is allowed in the zipfile")
        _safe_extract_zip(f, model_dir)
        extracted = os.path.join(model_dir, members[0].filename)
    return load(extracted, map_location=map_location, weights_only=weights_only)


def load_state_dict_from_url(url: str, model_dir: str | None = None, map_location=None,
                             progress: bool = True, check_hash: bool = False,
                             file_name: str | None = None,
                             weights_only: bool = False) -> dict[str, Any]:
    """Load the serialized object at ``url``, downloading it into the cache on first use.

    If the file is already in ``model_dir`` it is loaded from there with no network access.

    Args:
        url: the address of the object.
        model_dir: where to keep it. Default: ``<get_dir()>/checkpoints``.
        map_location: how to remap storage locations (see ``ember.load``).
        progress: whether to show a progress bar on stderr. Default: True.
        check_hash: if True, the file name must be ``name-<sha256 prefix>.ext``, and the
            download is refused unless its SHA256 starts with that prefix. Default: False.
        file_name: the name to save under. Default: the last component of ``url``.
        weights_only: passed on to ``ember.load``.

    Returns:
        The loaded object, usually a state dict.
    """
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = os.path.basename(urlparse(url).path)
    if file_name is not None:
        filename = file_name
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stdout.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            r = HASH_REGEX.search(filename)
            hash_prefix = r.group(1) if r else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    if _is_legacy_zip_format(cached_file):
        return _legacy_zip_load(cached_file, model_dir, map_location, weights_only)
    from .serialization import load

    return load(cached_file, map_location=map_location, weights_only=weights_only)
