"""Executors: one small interface for "run these independent tasks".

Three implementations, chosen by name (``make_executor``):

- ``"serial"`` — in this process, one task after another;
- ``"local"`` — a process pool on this machine (``spawn`` context: torch and ``fork`` do not mix;
  one torch thread per worker so that ``workers`` processes do not oversubscribe the cores;
  nothing to start, the pool is created lazily on first use and falls back to serial if it cannot
  start);
- ``"dask"`` — Dask distributed: an existing scheduler (``scheduler="tcp://host:port"``; only
  ``tcp://``, ``tls://`` and ``inproc://``; connection and handshake within ``connect_timeout``
  seconds, default 20) or a ``LocalCluster`` on 127.0.0.1 started for the caller and closed
  afterwards. **The scheduler must be trusted**: Dask unpickles what it receives, so whoever runs
  the scheduler can run code in this process.

Experiments never see which one runs them. For inner sweeps an experiment may call
:func:`map_tasks`, which uses the *active* executor (set by the driver with :func:`use_executor`)
when that is safe and runs serially otherwise — in particular always serially inside a worker
process, since nested pools oversubscribe the machine or deadlock.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from dltheory.errors import DLTheoryError

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

__all__ = [
    "DASK_SCHEMES",
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "LocalPoolExecutor",
    "SerialExecutor",
    "active_executor",
    "check_connect_timeout",
    "check_executor_args",
    "check_scheduler_address",
    "connect_client",
    "default_workers",
    "in_worker",
    "make_executor",
    "map_tasks",
    "use_executor",
]

EXECUTORS = ("serial", "local", "dask")
_WORKER_ENV = "DLTHEORY_IN_WORKER"
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def default_workers() -> int:
    """``min(2, number of CPUs)``: the local pool's default size."""
    return max(1, min(2, os.cpu_count() or 1))


def in_worker() -> bool:
    """True inside a worker process of a local pool or a Dask worker."""
    if os.environ.get(_WORKER_ENV) == "1":
        return True
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            get_worker()
            return True
        except (ValueError, ImportError):
            return False
    return False


def _exit_with_parent(parent: int) -> None:
    """Daemon loop of a pool worker: exit as soon as the parent process is gone (e.g. SIGKILLed)."""
    import time

    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _mark_worker(threads: int = 1, parent: int | None = None) -> None:
    """Worker set-up: mark the process as a worker and cap torch's threads.

    With ``parent`` (a local pool) the worker exits when that process dies, so a killed sweep
    leaves no orphaned workers computing results nobody will save.
    """
    if parent is not None:
        import threading

        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    os.environ[_WORKER_ENV] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    for var in _THREAD_VARS:  # read by torch, NumPy's BLAS and OpenMP when they are first imported
        os.environ[var] = str(threads)
    if "torch" in sys.modules:  # already imported: the variables above came too late for it
        from dltheory.nets.threads import set_torch_threads

        set_torch_threads(threads)


def _call_in_worker(fn: Callable[[Any], Any], item: Any) -> Any:
    if os.environ.get(_WORKER_ENV) != "1":
        _mark_worker(1)
    return fn(item)


class Executor:
    """Run independent tasks ``fn(item)``; results are yielded as they complete.

    Subclasses implement :meth:`imap_unordered`. Executors are context managers; :meth:`close`
    releases workers (pool processes, Dask client/cluster).
    """

    name = "base"
    workers = 1

    def imap_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, fn(items[index]))`` in completion order.

        An exception raised by ``fn`` is yielded as ``(index, exc)`` wrapped in :class:`TaskFailed`
        so that one failing task does not lose the others' results.
        """
        raise NotImplementedError

    def close(self) -> None:
        """Release the workers."""

    def terminate(self) -> None:
        """Stop at once (Ctrl-C): drop queued tasks and stop running ones, whose results are lost.

        Default: :meth:`close`.
        """
        self.close()

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None and not issubclass(exc_type, Exception):  # KeyboardInterrupt, SystemExit
            self.terminate()
        else:
            self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


class TaskFailed:
    """An exception raised by a task (or by its worker), as yielded by ``imap_unordered``."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"TaskFailed({self.exc!r})"


class SerialExecutor(Executor):
    """Run tasks one after another in this process."""

    name = "serial"

    def imap_unordered(self, fn, items):
        for i, item in enumerate(items):
            try:
                result = fn(item)
            except (KeyboardInterrupt, SystemExit):
                raise
            except Exception as exc:  # noqa: BLE001 - reported to the caller per task
                result = TaskFailed(exc)
            yield i, result


class LocalPoolExecutor(Executor):
    """A process pool on this machine (``spawn`` context, one torch thread per worker).

    Parameters
    ----------
    workers : int, optional
        Number of processes; default :func:`default_workers`. ``workers=1`` runs serially in this
        process (a pool of one is only overhead).
    """

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        workers = default_workers() if workers is None else workers
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise DLTheoryError(f"workers must be a positive integer; got {workers!r}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._failed_to_start = False

    def _get_pool(self):
        if self._pool is None and not self._failed_to_start:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            try:
                self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                                 initializer=_mark_worker, initargs=(1, os.getpid()))
            except (OSError, ValueError, RuntimeError) as exc:
                warnings.warn(f"local process pool could not start ({exc}); running serially", stacklevel=3)
                self._failed_to_start = True
        return self._pool

    def imap_unordered(self, fn, items):
        if self.workers == 1 or len(items) <= 1 or not _picklable(fn):
            yield from SerialExecutor().imap_unordered(fn, items)
            return
        pool = self._get_pool()
        if pool is None:
            yield from SerialExecutor().imap_unordered(fn, items)
            return
        from concurrent.futures import FIRST_COMPLETED, wait

        futures = {}
        try:
            for i, item in enumerate(items):
                futures[pool.submit(_call_in_worker, fn, item)] = i
        except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable item, or a pool that broke
            warnings.warn(f"local process pool failed ({exc}); running the rest serially", stacklevel=2)
            for f in futures:
                f.cancel()
            self.close()
            self._failed_to_start = True
            yield from SerialExecutor().imap_unordered(fn, items)
            return
        pending = set(futures)
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    error = f.exception()
                    yield futures[f], (TaskFailed(error) if error is not None else f.result())
        finally:
            for f in pending:
                f.cancel()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def terminate(self) -> None:
        """Kill the worker processes (SIGTERM, then SIGKILL after 1 s) and drop the queued tasks."""
        import time

        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list((getattr(pool, "_processes", None) or {}).values())
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + 1.0
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.join(max(0.0, deadline - time.monotonic()))
                if proc.is_alive():
                    proc.kill()


DASK_SCHEMES = ("tcp", "tls", "inproc")
DEFAULT_CONNECT_TIMEOUT_S = 20.0
MAX_CONNECT_TIMEOUT_S = 3600.0


def check_scheduler_address(address: Any) -> str:
    """``address`` if it is a ``tcp://``, ``tls://`` or ``inproc://`` address, else a one-line error.

    Checked before any connection is attempted.
    """
    if not isinstance(address, str) or len(address) > 1000:
        raise DLTheoryError(f"--scheduler must be an address like tcp://host:8786; got {address!r}"[:300])
    scheme, sep, rest = address.partition("://")
    if not sep or scheme not in DASK_SCHEMES or not rest.strip() or any(c.isspace() for c in address):
        raise DLTheoryError(f"--scheduler must be a {', '.join(s + '://' for s in DASK_SCHEMES)} address "
                            f"like tcp://host:8786; got {address!r}"[:300])
    return address


def check_connect_timeout(timeout: Any) -> float:
    """``timeout`` as a float in (0, 3600] seconds, else a one-line error."""
    import math

    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or not 0 < timeout <= MAX_CONNECT_TIMEOUT_S:
        raise DLTheoryError(f"--connect-timeout must be a number of seconds in (0, {MAX_CONNECT_TIMEOUT_S:.0f}]; "
                            f"got {timeout!r}")
    return float(timeout)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:200]


def _within(seconds: float, fn: Callable[[], Any]) -> Any:
    """``fn()`` in a daemon thread; raises TimeoutError if it has not returned after ``seconds``."""
    import threading

    box: list[Any] = []

    def target() -> None:
        try:
            box.append((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            box.append((False, exc))

    thread = threading.Thread(target=target, name="dltheory-dask-connect", daemon=True)
    thread.start()
    thread.join(seconds)
    if not box:
        raise TimeoutError(f"no answer within {seconds:g} s")
    ok, value = box[0]
    if not ok:
        raise value
    return value


def _handshake(address: str, timeout: float) -> Any:
    """Connect to ``address`` with Dask's comm layer and ask for its identity, all within ``timeout``."""
    import asyncio

    from distributed.comm import connect
    from distributed.security import Security

    async def identify() -> Any:
        comm = await connect(address, timeout=timeout, **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    return asyncio.run(asyncio.wait_for(identify(), timeout))


def connect_client(address: str, timeout: float = DEFAULT_CONNECT_TIMEOUT_S):
    """A ``distributed.Client`` of the scheduler at ``address``, connected and identified within ``timeout``.

    The address is checked first (:func:`check_scheduler_address`); then a Dask handshake and an
    ``identity`` request must complete within ``timeout`` seconds, so a silent listener, a service
    that speaks another protocol or a hung scheduler end with a one-line :class:`DLTheoryError`
    instead of a hang or a traceback. The scheduler must be trusted: Dask exchanges pickled objects,
    so a malicious scheduler can run code in this process.
    """
    import time

    from distributed import Client

    address = check_scheduler_address(address)
    timeout = check_connect_timeout(timeout)
    where = f"cannot connect to the Dask scheduler at {address}"
    start = time.monotonic()
    try:
        reply = _within(timeout + 0.5, lambda: _handshake(address, timeout))
    except TimeoutError:  # also asyncio's (the same class since Python 3.11)
        raise DLTheoryError(f"{where}: no Dask handshake within {timeout:g} s (nothing listening, or not answering; --connect-timeout)") from None
    except OSError as exc:
        raise DLTheoryError(f"{where}: {_one_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001 - garbage from a non-Dask service: MemoryError, ValueError...
        raise DLTheoryError(f"{where}: not a Dask scheduler (handshake failed: {_one_line(exc)})") from None
    if not isinstance(reply, dict) or reply.get("type") != "Scheduler":
        raise DLTheoryError(f"{where}: the service answered but is not a Dask scheduler")
    left = max(1.0, timeout - (time.monotonic() - start))
    try:
        return _within(left + 0.5, lambda: Client(address, timeout=left, set_as_default=False))
    except Exception as exc:  # noqa: BLE001
        raise DLTheoryError(f"{where}: {_one_line(exc)}") from None


class DaskExecutor(Executor):
    """Dask distributed: connect to ``scheduler`` or start a loopback ``LocalCluster``.

    The scheduler must be trusted: Dask sends pickled functions and results both ways, so whoever
    controls the scheduler can run code in this process and on the workers.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler: ``tcp://host:8786``, ``tls://host:8786`` or ``inproc://...``
        (other schemes are refused before connecting). Without it a ``LocalCluster`` with
        ``workers`` single-threaded worker processes is started on 127.0.0.1 (no dashboard) and
        closed by :meth:`close`.
    workers : int, optional
        Workers of the started ``LocalCluster`` (default :func:`default_workers`).
    timeout : float
        Seconds within which the connection and Dask handshake with ``scheduler`` must complete
        (default 20; CLI ``--connect-timeout``); see :func:`connect_client`.
    """

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 timeout: float = DEFAULT_CONNECT_TIMEOUT_S) -> None:
        if scheduler is not None:
            check_scheduler_address(scheduler)
        timeout = check_connect_timeout(timeout)
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise DLTheoryError("the dask executor needs Dask distributed: pip install 'dltheory[dask]'") from None
        workers = default_workers() if workers is None else workers
        if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
            raise DLTheoryError(f"workers must be a positive integer; got {workers!r}")
        self.workers = workers
        self._cluster = None
        if scheduler is not None:
            self.client = connect_client(scheduler, timeout)
            try:
                info = _within(timeout, self.client.scheduler_info)
            except Exception as exc:  # noqa: BLE001
                self.close()
                raise DLTheoryError(f"cannot query the Dask scheduler at {scheduler}: {_one_line(exc)}") from None
            self.workers = max(1, len(info.get("workers", {})))
        else:
            import logging

            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                         host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR,
                                         env={_WORKER_ENV: "1", **{v: "1" for v in _THREAD_VARS}})
            self.client = Client(self._cluster, set_as_default=False)

    def imap_unordered(self, fn, items):
        from distributed import as_completed

        futures = self.client.map(_call_in_worker, [fn] * len(items), list(items), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for f in as_completed(futures, loop=self.client.loop):
                try:
                    result = f.result()
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as exc:  # noqa: BLE001
                    result = TaskFailed(exc)
                yield index[f.key], result
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
            self._cluster = None


def check_executor_args(name: str = "local", workers: int | None = None, scheduler: str | None = None,
                        connect_timeout: float | None = None) -> None:
    """Check the arguments of :func:`make_executor` without starting or connecting anything (one-line errors)."""
    if name not in EXECUTORS:
        raise DLTheoryError(f"executor must be one of {', '.join(EXECUTORS)}; got {name!r}")
    if scheduler is not None and name != "dask":
        raise DLTheoryError("--scheduler only applies to --executor dask")
    if connect_timeout is not None and name != "dask":
        raise DLTheoryError("--connect-timeout only applies to --executor dask")
    if connect_timeout is not None:
        check_connect_timeout(connect_timeout)
    if scheduler is not None:
        check_scheduler_address(scheduler)
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise DLTheoryError(f"workers must be a positive integer; got {workers!r}")


def make_executor(name: str = "local", workers: int | None = None, scheduler: str | None = None,
                  connect_timeout: float | None = None) -> Executor:
    """The executor called ``name`` (``"serial"``, ``"local"`` or ``"dask"``).

    ``scheduler`` and ``connect_timeout`` (seconds, default 20) apply to ``"dask"`` only; see
    :class:`DaskExecutor`.
    """
    check_executor_args(name, workers, scheduler, connect_timeout)
    if name == "serial":
        return SerialExecutor()
    if name == "local":
        return LocalPoolExecutor(workers)
    return DaskExecutor(scheduler=scheduler, workers=workers,
                        timeout=DEFAULT_CONNECT_TIMEOUT_S if connect_timeout is None else connect_timeout)


_ACTIVE: list[Executor] = []


@contextlib.contextmanager
def use_executor(executor: Executor) -> Iterator[Executor]:
    """Make ``executor`` the one :func:`map_tasks` uses in this process (inside the block)."""
    _ACTIVE.append(executor)
    try:
        yield executor
    finally:
        _ACTIVE.pop()


def active_executor() -> Executor:
    """The executor :func:`map_tasks` would use now: serial inside workers or when none is active."""
    if _ACTIVE and not in_worker():
        return _ACTIVE[-1]
    return SerialExecutor()


def _picklable(obj: Any) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:  # noqa: BLE001 - lambdas, closures, open handles...
        return False
    return True


def map_tasks(fn: Callable[[Any], Any], items: Iterable[Any], *, description: str = "sweep",
              executor: Executor | None = None) -> list[Any]:
    """``[fn(item) for item in items]``, run on the active executor when that is safe.

    Parameters
    ----------
    fn : callable
        A module-level function of one argument (so it can be sent to other processes); it must
        not rely on global state set up by the caller, and must be deterministic given ``item``
        (pass seeds inside ``item``, never share a generator between items).
    items : iterable
        The independent work items (e.g. ``(width, seed)`` tuples).
    description : str
        Label of the progress bar (shown only on a terminal).
    executor : Executor, optional
        Default: :func:`active_executor` — serial unless a driver such as ``dltheory run`` made a
        pool active, and always serial inside a worker process. A non-picklable ``fn`` or item
        list also runs serially.

    Returns
    -------
    list
        Results in the order of ``items``. The first exception raised by a task is re-raised
        (after the other tasks finished).
    """
    from dltheory.lab.progress import sweep_progress

    items = list(items)
    ex = executor if executor is not None else active_executor()
    if not isinstance(ex, SerialExecutor) and not _picklable((fn, items)):
        ex = SerialExecutor()
    results: list[Any] = [None] * len(items)
    first_error: BaseException | None = None
    with sweep_progress(description, len(items)) as advance:
        for i, result in ex.imap_unordered(fn, items):
            if isinstance(result, TaskFailed):
                first_error = first_error or result.exc
            results[i] = result
            advance()
    if first_error is not None:
        raise first_error
    return results
