"""Download and extraction helpers for datasets (torchvision's ``datasets.utils``).

Only the standard library's ``urllib`` is used. ``download_url`` prints what torchvision
prints ("Downloading URL to PATH", "Using downloaded and verified file: PATH") and checks
the file's MD5; ``extract_archive`` decompresses ``.gz``/``.bz2``/``.xz`` files and unpacks
``.tar`` (also compressed) and ``.zip`` archives.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import pathlib
import tarfile
import urllib.error
import zipfile
from collections.abc import Callable, Iterable
from typing import IO, Any
from urllib.request import Request, urlopen

from ...hub import _progress_bar

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "extract_archive",
           "download_and_extract_archive", "verify_str_arg"]

USER_AGENT = "ember/vision"
_Path = str | pathlib.Path


def _urlretrieve(url: str, filename: _Path, chunk_size: int = 1024 * 32) -> None:
    """Copy ``url`` to ``filename`` in chunks, with a progress bar on stderr."""
    with urlopen(Request(url, headers={"User-Agent": USER_AGENT})) as response:
        total = getattr(response, "length", None)
        with open(filename, "wb") as fh, _progress_bar(total=total, unit="B",
                                                        unit_scale=True) as bar:
            while chunk := response.read(chunk_size):
                fh.write(chunk)
                bar.update(len(chunk))


def calculate_md5(fpath: _Path, chunk_size: int = 1024 * 1024) -> str:
    """The MD5 hex digest of the file at ``fpath``."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath: _Path, md5: str, **kwargs: Any) -> bool:
    """Whether the file's MD5 is ``md5``."""
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath: _Path, md5: str | None = None) -> bool:
    """Whether ``fpath`` is a file and, if ``md5`` is given, has that MD5."""
    if not os.path.isfile(fpath):
        return False
    if md5 is None:
        return True
    return check_md5(fpath, md5)


def download_url(url: str, root: _Path, filename: _Path | None = None,
                 md5: str | None = None) -> None:
    """Download ``url`` into the directory ``root``, unless an intact copy is there.

    Args:
        url: the address to download.
        root: the directory to put the file in (created if missing).
        filename: the name to save it under. Default: the last part of the URL.
        md5: the file's MD5; None skips the check.

    Raises:
        urllib.error.URLError: the download failed (an ``https`` URL is retried as
            ``http`` first).
        RuntimeError: ``File not found or corrupted.``: the downloaded file's MD5 differs.
    """
    root = os.path.expanduser(root)
    if not filename:
        filename = os.path.basename(url)
    fpath = os.fspath(os.path.join(root, filename))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        print("Using downloaded and verified file: " + fpath)
        return
    try:
        print("Downloading " + url + " to " + fpath)
        _urlretrieve(url, fpath)
    except (urllib.error.URLError, OSError):
        if url[:5] != "https":
            raise
        url = url.replace("https:", "http:")
        print("Failed download. Trying https -> http instead. Downloading " + url + " to "
              + fpath)
        _urlretrieve(url, fpath)
    if not check_integrity(fpath, md5):
        raise RuntimeError("File not found or corrupted.")


def _extract_tar(from_path: _Path, to_path: _Path, compression: str | None) -> None:
    with tarfile.open(from_path, f"r:{compression[1:]}" if compression else "r") as tar:
        if hasattr(tarfile, "data_filter"):  # refuse absolute paths and links out of to_path
            tar.extractall(to_path, filter="data")
        else:
            tar.extractall(to_path)  # noqa: S202


_ZIP_COMPRESSION_MAP: dict[str, int] = {".bz2": zipfile.ZIP_BZIP2, ".xz": zipfile.ZIP_LZMA}


def _extract_zip(from_path: _Path, to_path: _Path, compression: str | None) -> None:
    with zipfile.ZipFile(from_path, "r", compression=_ZIP_COMPRESSION_MAP[compression]
                         if compression else zipfile.ZIP_STORED) as zf:
        zf.extractall(to_path)


_ARCHIVE_EXTRACTORS: dict[str, Callable[[_Path, _Path, str | None], None]] = {
    ".tar": _extract_tar, ".zip": _extract_zip}
_COMPRESSED_FILE_OPENERS: dict[str, Callable[..., IO]] = {
    ".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
_FILE_TYPE_ALIASES: dict[str, tuple[str | None, str | None]] = {
    ".tbz": (".tar", ".bz2"), ".tbz2": (".tar", ".bz2"), ".tgz": (".tar", ".gz")}


def _detect_file_type(file: _Path) -> tuple[str, str | None, str | None]:
    """``(suffix, archive type, compression)`` from the file's name."""
    suffixes = pathlib.Path(file).suffixes
    if not suffixes:
        raise RuntimeError(f"File '{file}' has no suffixes that could be used to detect the "
                           "archive type and compression.")
    suffix = suffixes[-1]
    if suffix in _FILE_TYPE_ALIASES:
        return (suffix, *_FILE_TYPE_ALIASES[suffix])
    if suffix in _ARCHIVE_EXTRACTORS:
        return suffix, suffix, None
    if suffix in _COMPRESSED_FILE_OPENERS:
        if len(suffixes) > 1 and suffixes[-2] in _ARCHIVE_EXTRACTORS:
            return suffixes[-2] + suffix, suffixes[-2], suffix
        return suffix, None, suffix
    valid_suffixes = sorted(set(_FILE_TYPE_ALIASES) | set(_ARCHIVE_EXTRACTORS)
                            | set(_COMPRESSED_FILE_OPENERS))
    raise RuntimeError(f"Unknown compression or archive type: '{suffix}'.\n"
                       f"Known suffixes are: '{valid_suffixes}'.")


def extract_archive(from_path: _Path, to_path: _Path | None = None,
                    remove_finished: bool = False) -> _Path:
    """Extract an archive or decompress a compressed file, by its name's suffix.

    Args:
        from_path: the file to extract.
        to_path: the directory to extract into. Default: the file's directory.
        remove_finished: remove the archive afterwards.

    Returns:
        The directory extracted into (for a compressed file, the decompressed file).
    """
    if to_path is None:
        to_path = os.path.dirname(from_path)
    suffix, archive_type, compression = _detect_file_type(from_path)
    if not archive_type:
        assert compression is not None
        out = os.path.join(to_path, os.path.basename(from_path).replace(suffix, ""))
        with _COMPRESSED_FILE_OPENERS[compression](from_path, "rb") as rfh, \
                open(out, "wb") as wfh:
            wfh.write(rfh.read())
        if remove_finished:
            os.remove(from_path)
        return out if isinstance(from_path, str) else pathlib.Path(out)
    _ARCHIVE_EXTRACTORS[archive_type](from_path, to_path, compression)
    if remove_finished:
        os.remove(from_path)
    return to_path


def download_and_extract_archive(url: str, download_root: _Path,
                                 extract_root: _Path | None = None,
                                 filename: _Path | None = None, md5: str | None = None,
                                 remove_finished: bool = False) -> None:
    """``download_url`` then ``extract_archive``, printing ``Extracting ARCHIVE to DIR``."""
    download_root = os.path.expanduser(download_root)
    if extract_root is None:
        extract_root = download_root
    if not filename:
        filename = os.path.basename(url)
    download_url(url, download_root, filename, md5)
    archive = os.path.join(download_root, filename)
    print(f"Extracting {archive} to {extract_root}")
    extract_archive(archive, extract_root, remove_finished)


def iterable_to_str(iterable: Iterable) -> str:
    return "'" + "', '".join([str(item) for item in iterable]) + "'"


def verify_str_arg(value: str, arg: str | None = None, valid_values: Iterable[str] | None = None,
                   custom_msg: str | None = None) -> str:
    """Check that ``value`` is a string, and one of ``valid_values`` if given (ValueError)."""
    if not isinstance(value, str):
        msg = "Expected type str" + (f" for argument {arg}" if arg is not None else "") + \
            f", but got type {type(value)}."
        raise ValueError(msg)
    if valid_values is None:
        return value
    if value not in valid_values:
        msg = custom_msg if custom_msg is not None else (
            f"Unknown value '{value}' for argument {arg}. Valid values are "
            f"{{{iterable_to_str(valid_values)}}}.")
        raise ValueError(msg)
    return value
