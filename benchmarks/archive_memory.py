"""Peak memory of opening a large compressed log archive as a context (issue 17).

    python benchmarks/archive_memory.py                 # 64, 256 and 1024 MiB of log text
    python benchmarks/archive_memory.py --sizes 64 512  # MiB of text per archive

For each size it writes a log folder as .tar.gz, .zip and one .log.gz into a temporary folder,
then, in a fresh Python process per archive, opens it with ``open_context`` (the archive is
streamed and rendered to a file on disk), greps it for a needle near its end, and reports the
process's peak resident memory (VmHWM) less its peak just after the imports: what reading the
archive cost. The needle found proves the whole archive was read.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

MIB = 1 << 20
FILES = 8  # members per archive
NEEDLE = "ERROR the vault access code is 7391-ALPHA"

CHILD = r"""
import json, sys, time

def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0

from rlm_graph.context import open_context
base = status("VmHWM")
started = time.perf_counter()
view = open_context(sys.argv[1])
hits = view.grep("vault access code").total
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "peak": status("VmHWM") - base,
    "anon": status("RssAnon"),
    "context": view.size,
    "hits": hits,
}))
"""


def write_logs(folder: Path, text_bytes: int) -> None:
    """``FILES`` log files with ``text_bytes`` of lines in all; the needle in the last one."""
    folder.mkdir(parents=True)
    line = b"2024-03-01 10:00:00 INFO worker 17 handled request %08d in 12 ms\n"
    per_file = text_bytes // FILES
    block = b"".join(line % i for i in range(10_000))
    for n in range(FILES):
        with open(folder / f"app-{n}.log", "wb") as out:
            written = 0
            while written + len(block) <= per_file:
                out.write(block)
                written += len(block)
            if n == FILES - 1:
                out.write(f"2024-03-31 23:59:59 {NEEDLE}\n".encode())


def build(folder: Path, work: Path) -> dict[str, Path]:
    archives = {"tar.gz": work / "logs.tar.gz", "zip": work / "logs.zip", "gz": work / "app.log.gz"}
    with tarfile.open(archives["tar.gz"], "w:gz", compresslevel=1) as tar:
        tar.add(folder, arcname="logs")
    with zipfile.ZipFile(archives["zip"], "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"logs/{path.name}")
    with gzip.open(archives["gz"], "wb", compresslevel=1) as out:  # one big log
        for path in sorted(folder.iterdir()):
            with open(path, "rb") as f:
                while block := f.read(MIB):
                    out.write(block)
    return archives


def measure(archive: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(archive)], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256, 1024], help="MiB")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="rlm-bench-archives-") as tmp:
            work = Path(tmp)
            write_logs(work / "logs", size * MIB)
            started = time.perf_counter()
            archives = build(work / "logs", work)
            print(
                f"built {size} MiB archives in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            for kind, path in archives.items():
                result = measure(path)
                assert result["hits"] == 1, result
                rows.append((size, kind, path.stat().st_size, result))
    print(
        "| text | archive | archive size | context | open + grep | peak memory added | RssAnon at end |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|")
    for size, kind, archive_size, r in rows:
        print(
            f"| {size} MiB | {kind} | {archive_size / MIB:.1f} MiB | {r['context'] / MIB:.0f} MiB "
            f"| {r['seconds']:.1f} s | {r['peak'] / MIB:.1f} MiB | {r['anon'] / MIB:.1f} MiB |"
        )


if __name__ == "__main__":
    main()
