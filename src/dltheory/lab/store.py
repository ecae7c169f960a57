"""The results store: every task's result under a content hash, self-verifying, safe to share.

A *task* is one (experiment, config, seed) run. Its key is the SHA-256 of the JSON of
``{experiment, config, code_version, seed}`` where ``code_version`` is the dltheory version plus a
hash of every source file of the installed ``dltheory`` package (and of the experiment's module if
it lives elsewhere), so any change of the library's code invalidates the stored results.

Layout under the results directory ``root``::

    root/runs/<key>/meta.json        config, claims, seed, provenance, the size and SHA-256 of every
    root/runs/<key>/table.parquet    other file of the run, and a SHA-256 of meta.json itself
    root/runs/<key>/<figure>.png
    root/<experiment>/...            the published copy of each experiment: what the canonical report reads
    root/manifest.json               index: key -> experiment, seed, scale, overrides, status, wall time, path;
                                     the published run per experiment; the canonical scale of the report
    root/.dltheory.lock              the lock (``filelock``) of the directory's publish steps

**Self-verifying.** ``meta.json`` carries ``checksum``: the SHA-256 of its own canonical JSON
(sorted keys, no spaces, without the ``checksum`` field), which covers ``files`` (name -> bytes and
SHA-256 of every other file of the run). :func:`verify_run` checks all of it, that the key is the
hash of the recorded identity, and that every listed file is a regular file (no symbolic link)
directly inside the run directory. The checksum detects edits and corruption, not a forger who
recomputes it. Runs that fail verification are redone by ``run``/``reproduce`` and shown as
invalid by the report. Hidden entries (``.name``) and temporary ones (``*.tmp``) are never results.

**Concurrency.** Several processes may share one results directory. Temporary names carry their
owner, ``.<target>~<new|old>~<host>~<pid>~<random>.tmp``; :meth:`ResultsStore.clean_stale` removes
only temporaries of dead owners (same host and the process is gone), and those of other hosts or
without an owner only when older than :data:`STALE_AGE_S`. Swapping a run directory into place,
publishing, the manifest and cleaning run under the directory's lock.

**Kill safety.** A run is assembled completely under a temporary name, then swapped in: on Linux
with ``renameat2(RENAME_EXCHANGE)`` (one atomic step), elsewhere by moving the old copy aside under
an ``old`` temporary name that :meth:`~ResultsStore.clean_stale` restores if its owner died before
the new copy was in place. A process killed at any point therefore leaves the old run or the new
one, never neither (also under ``--force``). Single files are written through an exclusive,
no-follow temporary (``O_CREAT | O_EXCL | O_NOFOLLOW``) and renamed.

**Canonical and exploration runs.** Every run is kept under ``runs/<key>``; only runs that are
*published* are copied to ``root/<experiment>/`` and make up the canonical report. The CLI publishes
a run only if it has no config overrides and its scale is the directory's canonical scale
(:meth:`ResultsStore.canonical_scale`; set by ``dltheory reproduce``, else by the first published
run); other runs are *exploration* runs, stored and listed but shown in the report only on request
(:meth:`ResultsStore.find_run`, ``dltheory report --include NAME@KEY``).

**Environment failures** (read-only or full file system, missing parent directory, a file where a
directory should be) raise :class:`~dltheory.errors.DLTheoryError` with one line naming the path
and the cause, after removing what was partially written. A read-only results directory can still
be *read*: valid stored results are verified and reused without publishing them (nothing is
written, no lock is taken).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import inspect
import json
import math
import os
import re
import secrets
import shutil
import socket
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from dltheory.errors import DLTheoryError
from dltheory.lab.base import Experiment, json_ready

__all__ = [
    "LOCK_NAME",
    "STALE_AGE_S",
    "ResultsStore",
    "VerifiedRun",
    "canonical_checksum",
    "check_results_dir",
    "code_version",
    "env_error",
    "existing_results_dir",
    "library_digest",
    "read_confined",
    "rename_exchange",
    "task_key",
    "temp_path",
    "verify_run",
    "write_atomic",
]

STALE_AGE_S = 24 * 3600.0
"""Temporaries of other hosts, or without an owner, are removed only when older than this (seconds)."""

LOCK_NAME = ".dltheory.lock"
LOCK_TIMEOUT_S = 300.0
MAX_META_BYTES = 64 * 2**20
MAX_FILE_BYTES = 8 * 2**30
RESERVED_NAMES = frozenset({"runs", "manifest.json", "report.html", LOCK_NAME})

_HOST = re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname())[:64] or "localhost"
_TEMP_RE = re.compile(r"^\.(?P<target>.+)~(?P<kind>new|old)~(?P<host>[A-Za-z0-9._-]{1,64})~(?P<pid>\d{1,10})~"
                      r"[0-9a-f]{8}\.tmp$")
_KEY_RE = re.compile(r"^[0-9a-f]{64}$")


# -- identity --------------------------------------------------------------------------------------
def library_digest(package_dir: str | os.PathLike | None = None) -> str:
    """SHA-256 (hex) over every ``*.py`` file of the ``dltheory`` package (relative path and content).

    Parameters
    ----------
    package_dir : path, optional
        Directory of a copy of the package. Default: the imported ``dltheory``, hashed once per
        process (so it describes the code this process loaded).
    """
    if package_dir is None:
        return _installed_digest()
    base = Path(package_dir)
    digest = hashlib.sha256()
    for path in sorted(base.rglob("*.py"), key=lambda p: p.relative_to(base).as_posix()):
        if "__pycache__" in path.parts:
            continue
        data = path.read_bytes()
        digest.update(path.relative_to(base).as_posix().encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return digest.hexdigest()


@lru_cache(maxsize=1)
def _installed_digest() -> str:
    import dltheory

    return library_digest(Path(dltheory.__file__).parent)


def code_version(experiment: Experiment, package_dir: str | os.PathLike | None = None) -> str:
    """``"<dltheory version>+<12 hex>"``: a hash of the whole library's source and the experiment's module.

    The experiment's module file is hashed in addition when it lies outside the installed package
    (e.g. a test or third-party experiment). ``package_dir`` as in :func:`library_digest`.
    """
    import dltheory

    fn = experiment.measure if experiment.measure is not None else experiment.run
    module = sys.modules.get(experiment.module, None)
    path = getattr(module, "__file__", None)
    if path is None:
        try:
            path = inspect.getsourcefile(fn)  # type: ignore[arg-type]
        except TypeError:
            path = None
    digest = hashlib.sha256(library_digest(package_dir).encode())
    installed = Path(dltheory.__file__).parent.resolve()
    if path and os.path.isfile(path) and installed not in Path(path).resolve().parents:
        digest.update(Path(path).read_bytes())
    return f"{dltheory.__version__}+{digest.hexdigest()[:12]}"


def task_key(experiment: str, config: dict[str, Any], code: str, seed: int) -> str:
    """Content hash (64 hex digits) of a task's identity."""
    ident = {"experiment": experiment, "config": json_ready(config), "code_version": code, "seed": int(seed)}
    blob = json.dumps(ident, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def canonical_checksum(document: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of ``document`` without its ``checksum`` field."""
    body = {k: v for k, v in document.items() if k != "checksum"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- environment errors ------------------------------------------------------------------------------
def _cause(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def env_error(action: str, path: str | os.PathLike, exc: OSError) -> DLTheoryError:
    """One-line :class:`DLTheoryError` for an :class:`OSError`: ``"<action> <path>: <cause>"``."""
    where = exc.filename if exc.filename is not None else path
    return DLTheoryError(f"{action} {os.fsdecode(where)}: {_cause(exc)}".replace("\n", " "))


@contextlib.contextmanager
def _io(action: str, path: str | os.PathLike) -> Iterator[None]:
    try:
        yield
    except DLTheoryError:
        raise
    except OSError as exc:
        raise env_error(action, path, exc) from None


def check_results_dir(root: str | os.PathLike) -> Path:
    """Check, without writing anything, that ``root`` is a directory or can be created as one.

    Raises :class:`DLTheoryError` (one line, naming the path) if ``root`` exists and is not a
    directory, or if its parent directory does not exist. Returns ``root`` as a path.
    """
    root = Path(root)
    try:
        st = os.stat(root)
    except FileNotFoundError:
        parent = root.absolute().parent
        if not parent.is_dir():
            raise DLTheoryError(f"results directory {root}: parent directory {parent} does not exist") from None
        return root
    except OSError as exc:
        raise env_error("results directory", root, exc) from None
    if not stat.S_ISDIR(st.st_mode):
        raise DLTheoryError(f"results directory {root} is not a directory")
    return root


def existing_results_dir(root: str | os.PathLike) -> Path:
    """``root`` as a path if it is an existing results directory to read; a one-line error otherwise."""
    root = Path(root)
    if os.path.lexists(root) and not root.is_dir():
        raise DLTheoryError(f"results directory {root} is not a directory")
    if not root.is_dir():
        raise DLTheoryError(f"results directory {root} does not exist; run `dltheory run NAME` first")
    return root


# -- owned temporaries -------------------------------------------------------------------------------
def temp_path(target: Path, kind: str = "new") -> Path:
    """A fresh hidden temporary name next to ``target``, carrying this host and process id."""
    return target.with_name(f".{target.name}~{kind}~{_HOST}~{os.getpid()}~{secrets.token_hex(4)}.tmp")


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def _process_alive(pid: int, not_after: float) -> bool:
    """Whether process ``pid`` on this host is alive and could have written a file at ``not_after``.

    A process that started after ``not_after`` has only reused the id (Linux ``/proc``; elsewhere
    a live id counts as alive). Zombies are dead.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass  # EPERM: alive, owned by someone else
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    if fields[0] in ("Z", "X"):
        return False
    boot = _boot_time()
    if boot is not None:
        started = boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        if started > not_after + 2.0:
            return False
    return True


def _orphaned(name: str, mtime: float, now: float) -> bool:
    m = _TEMP_RE.match(name)
    if m is None or m["host"] != _HOST:
        return now - mtime > STALE_AGE_S
    return not _process_alive(int(m["pid"]), mtime)


def _remove(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(path)
    else:
        os.unlink(path)


# -- writing -------------------------------------------------------------------------------------------
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _write_new(path: Path, data: bytes, durable: bool = True) -> None:
    """Create ``path`` exclusively (never through a symbolic link) and write ``data``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_NOFOLLOW | _O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through an exclusive no-follow temporary file, then rename it.

    The temporary is created with ``O_CREAT | O_EXCL | O_NOFOLLOW`` under a fresh owned name (see
    :func:`temp_path`), so a file or symbolic link planted there is never written through; the
    rename replaces ``path`` itself (a symbolic link at ``path`` is replaced, not followed).
    Raises :class:`OSError`; nothing is left behind on failure.
    """
    path = Path(path)
    for attempt in range(5):
        tmp = temp_path(path)
        try:
            _write_new(tmp, data)
        except FileExistsError:
            if attempt == 4:
                raise
            continue
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        try:
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return


_RENAMEAT2: Any = False


def rename_exchange(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Atomically exchange paths ``a`` and ``b`` (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False, changing nothing, where the system or file system does not support it.
    """
    global _RENAMEAT2
    if _RENAMEAT2 is False:
        try:
            fn = ctypes.CDLL(None, use_errno=True).renameat2
            fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            fn.restype = ctypes.c_int
            _RENAMEAT2 = fn
        except (OSError, AttributeError, TypeError):
            _RENAMEAT2 = None
    if _RENAMEAT2 is None:
        return False
    at_fdcwd, rename_exchange_flag = -100, 2
    if _RENAMEAT2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange_flag) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), os.fsdecode(b))


def _swap_in(src: Path, dst: Path) -> None:
    """Put the complete directory ``src`` at ``dst``; the previous ``dst`` ends up at ``src``, to be removed.

    At every instant either the old or the new directory is at ``dst`` (or, in the fallback, an
    ``old`` temporary that :meth:`ResultsStore.clean_stale` restores).
    """
    try:
        os.rename(src, dst)
        return
    except OSError as exc:
        if exc.errno not in (errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR):
            raise
    if rename_exchange(src, dst):
        return
    backup = temp_path(dst, kind="old")
    os.rename(dst, backup)
    os.rename(src, dst)
    os.rename(backup, src)


# -- reading -------------------------------------------------------------------------------------------
def _plain_name(name: Any) -> bool:
    return (isinstance(name, str) and 0 < len(name) <= 255 and name not in (".", "..") and not name.startswith(".")
            and not name.endswith(".tmp") and not any(c in name for c in "/\\\0") and not os.path.isabs(name))


class _Invalid(Exception):
    pass


def _read_at(dir_fd: int, name: str, limit: int) -> bytes:
    if not _plain_name(name):
        raise _Invalid(f"{name!r} is not a plain file name inside the run directory")
    try:
        fd = os.open(name, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | getattr(os, "O_NONBLOCK", 0), dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise _Invalid(f"{name} is a symbolic link") from None
        if exc.errno == errno.ENOENT:
            raise _Invalid(f"{name} is missing") from None
        raise _Invalid(f"{name}: {_cause(exc)}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Invalid(f"{name} is not a regular file")
        if st.st_size > limit:
            raise _Invalid(f"{name} is larger than {limit} bytes")
        chunks, total = [], 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise _Invalid(f"{name} is larger than {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


@contextlib.contextmanager
def _open_dir(directory: Path) -> Iterator[int]:
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _O_NOFOLLOW | _O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _Invalid(f"{directory.name} is not a plain directory (symbolic link or file)") from None
        if exc.errno == errno.ENOENT:
            raise _Invalid(f"{directory} does not exist") from None
        raise _Invalid(f"{directory}: {_cause(exc)}") from None
    try:
        yield fd
    finally:
        os.close(fd)


def read_confined(directory: str | os.PathLike, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of file ``name`` directly inside ``directory``, refusing anything that could escape it.

    ``name`` must be a plain name (no ``/``, no ``..``, not absolute, not hidden); the directory
    must not be a symbolic link, and the file must be a regular file reached without following a
    symbolic link (``O_NOFOLLOW`` relative to the directory's descriptor). Raises
    :class:`DLTheoryError` naming the file and the reason otherwise.
    """
    directory = Path(directory)
    try:
        with _open_dir(directory) as dfd:
            return _read_at(dfd, name, limit)
    except _Invalid as exc:
        raise DLTheoryError(f"{directory}: {exc}") from None


@dataclass(frozen=True)
class VerifiedRun:
    """Result of :func:`verify_run`: ``meta`` and the files' bytes if valid, else ``problem``."""

    directory: Path
    meta: dict[str, Any] | None = None
    problem: str | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    meta_bytes: bytes = b""

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_run(directory: str | os.PathLike, key: str | None = None, name: str | None = None) -> VerifiedRun:
    """Verify the run in ``directory``: checksum of ``meta.json``, every listed file, and the key.

    Parameters
    ----------
    directory : path
        A run directory (``runs/<key>/`` or a published ``<experiment>/``).
    key : str, optional
        The task key the run must have (for ``runs/<key>/``).
    name : str, optional
        The experiment the run must belong to (for a published copy).

    Returns
    -------
    VerifiedRun
        With ``problem`` set (one line) if anything fails: ``meta.json`` unreadable, not JSON, its
        checksum missing or wrong (edited), the key not the hash of the recorded identity, a listed
        file missing, not a regular file, a symbolic link, outside the directory, or with another
        size or SHA-256, a figure not among the files.
    """
    directory = Path(directory)

    def bad(problem: str) -> VerifiedRun:
        return VerifiedRun(directory, problem=problem)

    try:
        with _open_dir(directory) as dfd:
            raw = _read_at(dfd, "meta.json", MAX_META_BYTES)
            try:
                meta = json.loads(raw)
            except (ValueError, RecursionError):
                return bad("meta.json is not valid JSON (truncated or edited)")
            if not isinstance(meta, dict):
                return bad("meta.json is not a JSON object")
            if not isinstance(meta.get("checksum"), str):
                return bad("meta.json has no checksum (written by an older version, or edited)")
            try:
                checksum = canonical_checksum(meta)
            except (ValueError, TypeError):
                return bad("meta.json holds non-finite numbers (edited)")
            if checksum != meta["checksum"]:
                return bad("meta.json checksum mismatch (edited or corrupted after it was written)")
            try:
                recomputed = task_key(meta["name"], meta["config"], meta["code_version"], meta["seed"])
            except (KeyError, TypeError, ValueError):
                return bad("meta.json lacks the task identity (name, config, code_version, seed)")
            if recomputed != meta.get("key"):
                return bad("the task key in meta.json is not the hash of its identity")
            if key is not None and meta["key"] != key:
                return bad(f"meta.json belongs to task {str(meta['key'])[:12]}, not {key[:12]}")
            if name is not None and meta["name"] != name:
                return bad(f"meta.json belongs to experiment {meta['name']!r}, not {name!r}")
            listing = meta.get("files")
            if not isinstance(listing, dict):
                return bad("meta.json lists no files")
            contents = {}
            for fname, info in listing.items():
                if fname == "meta.json" or not isinstance(info, dict):
                    return bad(f"meta.json lists an invalid entry {fname!r}")
                data = _read_at(dfd, fname, MAX_FILE_BYTES)
                if len(data) != info.get("bytes") or _sha256(data) != info.get("sha256"):
                    return bad(f"{fname}: size or SHA-256 differs from meta.json (truncated, replaced or corrupted)")
                contents[fname] = data
            figures = meta.get("figures", [])
            if not isinstance(figures, list) or not all(isinstance(f, str) and f"{f}.png" in contents for f in figures):
                return bad("meta.json names a figure that is not one of its verified files")
            if not isinstance(meta.get("claims", []), list):
                return bad("meta.json claims are not a list")
    except _Invalid as exc:
        return bad(str(exc))
    return VerifiedRun(directory, meta=meta, files=contents, meta_bytes=raw)


def _entries(directory: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(directory) as it:
            return sorted(it, key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _candidate(entry: os.DirEntry) -> bool:
    """A plain directory whose name could be a result (not hidden, not temporary, not a link)."""
    return _plain_name(entry.name) and entry.is_dir(follow_symlinks=False)


class ResultsStore:
    """Content-addressed results under ``root`` (see the module docstring for the layout and guarantees)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.runs = self.root / "runs"
        self.manifest_path = self.root / "manifest.json"
        self.writable: bool | None = None
        self.readonly_cause: str | None = None

    # -- set-up ------------------------------------------------------------------------------------
    def prepare(self) -> bool:
        """Create ``root`` (not its parents) if missing; return whether it is writable.

        Raises :class:`DLTheoryError` (one line, naming the path and the cause) if the parent is
        missing, ``root`` is not a directory, or it cannot be created. A read-only directory is not
        an error here: valid stored results can still be read (:meth:`reuse`).
        """
        check_results_dir(self.root)
        if not self.root.exists():
            try:
                os.mkdir(self.root)
            except FileExistsError:
                pass
            except OSError as exc:
                raise env_error("cannot create results directory", self.root, exc) from None
        probe = temp_path(self.root / "probe")
        try:
            _write_new(probe, b"", durable=False)
            os.unlink(probe)
            self.writable, self.readonly_cause = True, None
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(probe)
            if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise env_error("cannot write to results directory", self.root, exc) from None
            self.writable, self.readonly_cause = False, _cause(exc)
        return self.writable

    def require_writable(self, why: str) -> None:
        """Raise a one-line :class:`DLTheoryError` if :meth:`prepare` found ``root`` read-only."""
        if self.writable is None:
            self.prepare()
        if not self.writable:
            raise DLTheoryError(f"results directory {self.root} is not writable ({self.readonly_cause}); {why}")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's lock (reentrant within a process)."""
        from filelock import FileLock, Timeout

        path = self.root / LOCK_NAME
        lock = FileLock(path, timeout=LOCK_TIMEOUT_S, is_singleton=True)
        try:
            lock.acquire()
        except Timeout:
            raise DLTheoryError(f"results directory {self.root} is locked by another process "
                                f"(waited {LOCK_TIMEOUT_S:.0f} s for {path})") from None
        except OSError as exc:
            raise env_error("cannot lock results directory at", path, exc) from None
        try:
            yield
        finally:
            lock.release()

    # -- reading -----------------------------------------------------------------------------------
    def run_dir(self, key: str) -> Path:
        return self.runs / key

    def verify(self, key: str) -> VerifiedRun:
        """:func:`verify_run` of run ``key``."""
        if not isinstance(key, str) or not _KEY_RE.match(key):
            return VerifiedRun(self.runs, problem=f"{key!r} is not a task key")
        return verify_run(self.run_dir(key), key=key)

    def load_valid(self, key: str) -> dict[str, Any] | None:
        """The ``meta.json`` of run ``key`` if the run verifies (see :func:`verify_run`), else None."""
        verified = self.verify(key)
        return verified.meta if verified.ok else None

    def completed(self, key: str) -> dict[str, Any] | None:
        """The ``meta.json`` of run ``key`` if it is valid and succeeded (errored runs are redone)."""
        meta = self.load_valid(key)
        return meta if meta is not None and meta.get("status") == "ok" else None

    def reuse(self, key: str, publish: bool = True) -> tuple[dict[str, Any], Path] | None:
        """If run ``key`` is valid and succeeded: publish it (when writable) and return ``(meta, directory)``.

        With ``publish=False`` (an exploration run), or on a read-only directory, nothing is written
        and the directory returned is ``runs/<key>``.
        """
        if self.writable is None:
            self.prepare()
        if not self.writable or not publish:
            verified = self.verify(key)
            if verified.ok and verified.meta.get("status") == "ok":
                return verified.meta, verified.directory
            return None
        with self.locked():
            verified = self.verify(key)
            if not verified.ok or verified.meta.get("status") != "ok":
                return None
            return verified.meta, self._publish(verified)

    def published(self) -> list[VerifiedRun]:
        """Every published copy ``root/<experiment>/`` (plain directories holding ``meta.json``), verified.

        Sorted by name. A copy that fails :func:`verify_run` is returned with its ``problem`` set;
        a symbolic link in place of a copy is returned as a problem too (results are never read
        through links). Hidden and ``*.tmp`` entries and ``runs/`` are never results.
        """
        out = []
        for entry in _entries(self.root):
            name = entry.name
            if not _plain_name(name) or name in RESERVED_NAMES:
                continue
            path = self.root / name
            if entry.is_symlink():
                problem = f"{name} is a symbolic link; results are never read through links"
                out.append(VerifiedRun(path, problem=problem))
            elif entry.is_dir(follow_symlinks=False) and os.path.lexists(path / "meta.json"):
                out.append(verify_run(path, name=name))
        return out

    def all_runs(self) -> list[VerifiedRun]:
        """Every valid run under ``runs/`` (published or exploration), verified; invalid ones are left out."""
        out = []
        for entry in _entries(self.runs):
            if _candidate(entry) and _KEY_RE.match(entry.name):
                verified = verify_run(self.runs / entry.name, key=entry.name)
                if verified.ok:
                    out.append(verified)
        return out

    def find_run(self, name: str, key_prefix: str) -> VerifiedRun:
        """The valid run of experiment ``name`` whose key starts with ``key_prefix`` (>= 6 hex digits).

        Raises a one-line :class:`DLTheoryError` when no run or several runs match, or the run is
        not valid.
        """
        prefix = str(key_prefix).lower()
        if not re.fullmatch(r"[0-9a-f]{6,64}", prefix):
            raise DLTheoryError(f"{name}@{str(key_prefix)[:70]}: the key must be 6 to 64 hex digits (a task key or "
                                "its prefix, as `dltheory results --all` shows)")
        keys = [e.name for e in _entries(self.runs) if _candidate(e) and _KEY_RE.match(e.name)
                and e.name.startswith(prefix)]
        matches = []
        for key in keys:
            verified = verify_run(self.runs / key, key=key)
            if verified.ok and verified.meta.get("name") == name:
                matches.append(verified)
            elif not verified.ok and len(keys) == 1:
                raise DLTheoryError(f"{name}@{prefix}: the stored run is invalid ({verified.problem})")
        if not matches:
            raise DLTheoryError(f"{name}@{prefix}: no stored run of {name!r} has a key starting with {prefix!r} "
                                f"in {self.runs}")
        if len(matches) > 1:
            raise DLTheoryError(f"{name}@{prefix}: {len(matches)} runs match; give more digits of the key")
        return matches[0]

    def canonical_scale(self) -> str | None:
        """The scale of the canonical report: recorded in the manifest (by ``reproduce`` or the first
        published run), else the most common scale of the published runs, else None."""
        manifest = self.read_manifest()
        scale = manifest.get("canonical_scale")
        if isinstance(scale, str):
            return scale
        tasks = manifest["tasks"]
        scales = [str(tasks[k].get("scale")) for k in manifest["latest"].values()
                  if isinstance(tasks.get(k), dict) and isinstance(tasks[k].get("scale"), str)]
        return max(sorted(set(scales)), key=scales.count) if scales else None

    def set_canonical_scale(self, scale: str) -> None:
        """Record ``scale`` as the canonical report's scale (``dltheory reproduce`` of every experiment)."""
        self.require_writable("cannot record the canonical scale")
        with self.locked():
            manifest = self.read_manifest()
            manifest["canonical_scale"] = str(scale)
            self._write_manifest(manifest)

    def recorded_costs(self) -> dict[tuple[str, str], float]:
        """Wall time (s) of the most recent successful run per (experiment, scale), from the manifest."""
        costs: dict[tuple[str, str], tuple[str, float]] = {}
        for info in self.read_manifest()["tasks"].values():
            wall = info.get("wall_time_s") if isinstance(info, dict) else None
            if info.get("status") != "ok" or not isinstance(wall, (int, float)) or not math.isfinite(wall) or wall < 0:
                continue
            ident = (str(info.get("experiment")), str(info.get("scale")))
            finished = str(info.get("finished"))
            if ident not in costs or finished > costs[ident][0]:
                costs[ident] = (finished, float(wall))
        return {k: v for k, (_, v) in costs.items()}

    def _manifest_from_disk(self) -> dict[str, Any] | None:
        try:
            manifest = json.loads(read_confined(self.root, "manifest.json", MAX_META_BYTES))
        except (DLTheoryError, ValueError, RecursionError):
            return None
        if (not isinstance(manifest, dict) or not isinstance(manifest.get("tasks"), dict)
                or not isinstance(manifest.get("latest"), dict) or manifest.get("checksum") != _safe_checksum(manifest)):
            return None
        return manifest

    def rebuild_manifest(self) -> dict[str, Any]:
        """The manifest recomputed from every valid run directory (and the published copies)."""
        tasks: dict[str, Any] = {}
        for entry in _entries(self.runs):
            if _candidate(entry) and _KEY_RE.match(entry.name):
                verified = verify_run(self.runs / entry.name, key=entry.name)
                if verified.ok:
                    tasks[entry.name] = _task_entry(verified.meta)
        latest = {}  # only published copies are canonical (exploration runs are never "latest")
        for published in self.published():
            if published.ok and published.meta["key"] in tasks:
                latest[published.meta["name"]] = published.meta["key"]
        manifest: dict[str, Any] = {"format": 2, "tasks": tasks, "latest": latest}
        scales = [str(tasks[k].get("scale")) for k in latest.values() if isinstance(tasks[k].get("scale"), str)]
        if scales:
            manifest["canonical_scale"] = max(sorted(set(scales)), key=scales.count)
        return manifest

    def read_manifest(self) -> dict[str, Any]:
        """The manifest; rebuilt from all run directories if it is missing, unreadable or edited."""
        manifest = self._manifest_from_disk()
        return manifest if manifest is not None else self.rebuild_manifest()

    # -- writing -----------------------------------------------------------------------------------
    def clean_stale(self) -> list[Path]:
        """Remove temporaries of dead owners in ``root`` and ``root/runs``; returns what was removed.

        Same host: removed when the owning process is gone; other hosts, or no owner in the name:
        when older than :data:`STALE_AGE_S`. An ``old`` temporary (the previous copy of a run moved
        aside) whose target is missing is restored instead of removed.
        """
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        with self.locked(), _io("cannot clean temporary files in", self.root):
            now = time.time()
            for directory in (self.root, self.runs):
                for entry in _entries(directory):
                    if not entry.name.endswith(".tmp"):
                        continue
                    path = directory / entry.name
                    try:
                        mtime = entry.stat(follow_symlinks=False).st_mtime
                    except FileNotFoundError:
                        continue
                    if not _orphaned(entry.name, mtime, now):
                        continue
                    m = _TEMP_RE.match(entry.name)
                    target = directory / m["target"] if m is not None else None
                    if m is not None and m["kind"] == "old" and not os.path.lexists(target):
                        os.rename(path, target)
                    else:
                        _remove(path)
                    removed.append(path)
        return removed

    def write(self, meta: dict[str, Any], files: dict[str, bytes]) -> Path:
        """Write run ``meta["key"]`` (``meta.json`` with checksum, plus ``files``) and swap it in.

        The run is assembled under an owned temporary name and swapped into ``runs/<key>`` under
        the lock (see the module docstring). Raises :class:`DLTheoryError` on a bad file name or an
        environment failure, leaving nothing behind.
        """
        key = meta["key"]
        if not isinstance(key, str) or not _KEY_RE.match(key):
            raise DLTheoryError(f"invalid task key {key!r}")
        for name in files:
            if not _plain_name(name) or name == "meta.json":
                raise DLTheoryError(f"invalid result file name {name!r}")
        listing = {name: {"bytes": len(data), "sha256": _sha256(data)} for name, data in files.items()}
        document = json_ready({**meta, "files": listing})
        document.pop("checksum", None)
        document["checksum"] = canonical_checksum(document)
        blob = json.dumps(document, indent=2, allow_nan=False).encode()
        self.require_writable(f"cannot store the result of task {key[:12]}")
        with _io("cannot write results to", self.runs):
            with contextlib.suppress(FileExistsError):
                os.mkdir(self.runs)
            tmp = temp_path(self.run_dir(key))
            os.mkdir(tmp)
            try:
                for name, data in files.items():
                    _write_new(tmp / name, data)
                _write_new(tmp / "meta.json", blob)
                with self.locked():
                    _swap_in(tmp, self.run_dir(key))
            finally:
                _remove(tmp)
        return self.run_dir(key)

    def save(self, meta: dict[str, Any], files: dict[str, bytes],
             publish: bool = True) -> tuple[dict[str, Any], Path]:
        """:meth:`write` then :meth:`publish` the run; returns its verified ``meta.json`` and published directory.

        With ``publish=False`` (an exploration run) the run is only indexed, and the directory
        returned is ``runs/<key>``.
        """
        key = meta["key"]
        self.write(meta, files)
        with self.locked():
            verified = self.verify(key)
            if not verified.ok:
                raise DLTheoryError(f"the run just written to {self.run_dir(key)} does not verify: {verified.problem}")
            if not publish:
                self._index(verified.meta, latest=False)
                return verified.meta, verified.directory
            return verified.meta, self._publish(verified)

    def publish(self, key: str) -> Path:
        """Copy the valid run ``key`` to ``root/<experiment>/`` (replacing the previous copy) and index it."""
        self.require_writable("cannot publish")
        with self.locked():
            verified = self.verify(key)
            if not verified.ok:
                raise DLTheoryError(f"cannot publish run {key[:12]}: {verified.problem}")
            return self._publish(verified)

    def _publish(self, verified: VerifiedRun) -> Path:
        meta = verified.meta
        name = meta["name"]
        if not _plain_name(name) or name in RESERVED_NAMES:
            raise DLTheoryError(f"experiment name {name!r} cannot be published")
        dst = self.root / name
        with _io("cannot publish results to", dst):
            current = verify_run(dst, name=name) if os.path.lexists(dst) else None
            if current is None or not current.ok or current.meta_bytes != verified.meta_bytes:
                tmp = temp_path(dst)
                os.mkdir(tmp)
                try:
                    for fname, data in verified.files.items():
                        _write_new(tmp / fname, data, durable=False)
                    _write_new(tmp / "meta.json", verified.meta_bytes, durable=False)
                    _swap_in(tmp, dst)
                finally:
                    _remove(tmp)
            self._index(meta)
        return dst

    def _index(self, meta: dict[str, Any], latest: bool = True) -> None:
        manifest = self.read_manifest()
        manifest["tasks"][meta["key"]] = _task_entry(meta)
        if latest:
            manifest["latest"][meta["name"]] = meta["key"]
            if not isinstance(manifest.get("canonical_scale"), str) and isinstance(meta.get("scale"), str):
                manifest["canonical_scale"] = meta["scale"]  # the first published run sets the report's scale
        self._write_manifest(manifest)

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        manifest["format"] = 2
        manifest.pop("checksum", None)
        manifest["checksum"] = canonical_checksum(manifest)
        with _io("cannot write the manifest", self.manifest_path):
            write_atomic(self.manifest_path, json.dumps(manifest, indent=2, sort_keys=True).encode())


def _safe_checksum(document: dict[str, Any]) -> str | None:
    try:
        return canonical_checksum(document)
    except (ValueError, TypeError):
        return None


def _task_entry(meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "experiment": meta["name"], "scale": meta.get("scale"), "seed": meta.get("seed"),
        "code_version": meta.get("code_version"), "status": meta.get("status"),
        "run_id": meta.get("run_id"), "finished": meta.get("finished"),
        "wall_time_s": meta.get("wall_time_s"), "overrides": meta.get("overrides"),
        "path": f"runs/{meta['key']}",
    }
