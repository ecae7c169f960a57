"""Executors: serial, the local spawn pool and a real Dask LocalCluster run the same tasks alike."""

from __future__ import annotations

import os
import sys

import pytest

from dltheory.errors import DLTheoryError
from dltheory.lab.executors import (
    LocalPoolExecutor,
    SerialExecutor,
    active_executor,
    in_worker,
    make_executor,
    map_tasks,
    use_executor,
)
from dltheory.lab.runner import make_task, run_sweep
from tests.experiments.toys import EXPERIMENTS, chunk_mean


def square(x):
    return x * x


def where_am_i(_):
    """Runs in a task: is it a worker, which executor would an inner sweep use, torch threads."""
    torch = sys.modules.get("torch")
    return os.getpid(), in_worker(), type(active_executor()).__name__, os.environ.get("OMP_NUM_THREADS"), \
        torch.get_num_threads() if torch else None


def fails_on_three(x):
    if x == 3:
        raise RuntimeError("three")
    return x


@pytest.fixture(scope="module")
def pool():
    with LocalPoolExecutor(2) as ex:  # one spawned pool for the module: each start costs seconds
        yield ex


def test_serial_and_pool_map_in_order_and_pool_uses_spawned_workers(pool):
    items = list(range(7))
    assert map_tasks(square, items) == [i * i for i in items]
    assert map_tasks(square, items, executor=pool) == [i * i for i in items]
    info = map_tasks(where_am_i, range(4), executor=pool)
    assert all(pid != os.getpid() for pid, *_ in info)
    # inside a worker: marked as such, inner sweeps serial, one thread per worker
    assert all(w and ex == "SerialExecutor" and omp == "1" for _, w, ex, omp, _ in info)


def test_active_executor_is_used_by_map_tasks_and_serial_inside_workers(pool):
    assert isinstance(active_executor(), SerialExecutor)
    with use_executor(pool):
        assert active_executor() is pool
        pids = {pid for pid, *_ in map_tasks(where_am_i, range(4))}
    assert os.getpid() not in pids
    # unpicklable work falls back to serial in this process
    assert map_tasks(lambda x: os.getpid(), [1, 2], executor=LocalPoolExecutor(2)) == [os.getpid()] * 2


@pytest.mark.parametrize("executor", ["serial", "local"])
def test_task_errors_are_reraised_after_the_others_finish(executor, pool):
    ex = pool if executor == "local" else SerialExecutor()
    with pytest.raises(RuntimeError, match="three"):
        map_tasks(fails_on_three, range(6), executor=ex)
    results = dict(ex.imap_unordered(fails_on_three, list(range(6))))
    assert sorted(results) == list(range(6)) and type(results[3]).__name__ == "TaskFailed"


def test_bad_executor_choices_are_clear_errors(monkeypatch):
    with pytest.raises(DLTheoryError, match="executor must be one of"):
        make_executor("threads")
    with pytest.raises(DLTheoryError, match="workers must be a positive integer"):
        make_executor("local", workers=0)
    with pytest.raises(DLTheoryError, match="only applies to --executor dask"):
        make_executor("local", scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(DLTheoryError, match="tcp://host"):
        make_executor("dask", scheduler="not-an-address")
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    with pytest.raises(DLTheoryError, match=r"pip install 'dltheory\[dask\]'"):
        make_executor("dask")


def test_dask_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(DLTheoryError, match="cannot connect to the Dask scheduler"):
        from dltheory.lab.executors import DaskExecutor

        DaskExecutor(scheduler="tcp://127.0.0.1:9", timeout=2)


def test_dask_local_cluster_gives_the_same_results_as_serial(tmp_path):
    """A real LocalCluster on loopback (scheduler and 2 worker processes), and an external-scheduler client."""
    tasks = [make_task(e, seed=4, overrides={"sleep_s": 0.0}) for e in EXPERIMENTS[:3]]
    serial = run_sweep(tasks, out_dir=tmp_path / "serial", executor=SerialExecutor())
    with make_executor("dask", workers=2) as ex:
        assert ex._cluster is not None and ex._cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        dask = run_sweep(tasks, out_dir=tmp_path / "dask", executor=ex)
        info = map_tasks(where_am_i, range(4), executor=ex)
        assert map_tasks(chunk_mean, [(10, 1, 0.0), (10, 2, 0.0)], executor=ex) == \
            [chunk_mean((10, 1, 0.0)), chunk_mean((10, 2, 0.0))]
        # a second client connecting to the running scheduler by address, as with --scheduler
        with make_executor("dask", scheduler=ex._cluster.scheduler_address) as remote:
            assert remote.workers == 2 and map_tasks(square, [1, 2, 3], executor=remote) == [1, 4, 9]
    assert all(pid != os.getpid() and worker and inner == "SerialExecutor" for pid, worker, inner, *_ in info)
    assert [r.meta["executor"] for r in dask] == ["dask"] * 3
    assert [r.claims for r in dask] == [r.claims for r in serial]


# -- connecting to a Dask scheduler with a deadline (issue 13 item 7) --------------------------------------
def _listener(speaks_first: bytes | None):
    """A TCP service on 127.0.0.1 that accepts and then stays silent, or sends ``speaks_first`` bytes."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if speaks_first is not None:
                conn.sendall(speaks_first)

    threading.Thread(target=serve, daemon=True).start()
    return server, f"tcp://127.0.0.1:{server.getsockname()[1]}"


def _connect_error(address, timeout):
    import time

    import distributed  # noqa: F401 - imported before timing: the import is not the connection

    from dltheory.lab.executors import DaskExecutor

    t0 = time.monotonic()
    with pytest.raises(DLTheoryError) as info:
        DaskExecutor(scheduler=address, timeout=timeout)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"cannot connect to the Dask scheduler at {address}")
    return message, time.monotonic() - t0


def test_a_silent_listener_is_a_one_line_error_within_the_timeout():
    server, address = _listener(None)
    try:
        message, elapsed = _connect_error(address, 2.0)
    finally:
        server.close()
    assert "no Dask handshake within 2 s" in message
    assert 1.9 <= elapsed <= 4.0, elapsed  # the deadline, not Dask's retries


@pytest.mark.parametrize("garbage", [b"\xff" * 64, b"HTTP/1.1 400 Bad Request\r\n\r\n", b"\x00" * 7 + b"\xc0" + b"x" * 32],
                         ids=["ff-bytes", "http", "huge-frame-size"])
def test_a_service_that_speaks_first_is_a_one_line_error(garbage):
    server, address = _listener(garbage)
    try:
        message, elapsed = _connect_error(address, 2.0)
    finally:
        server.close()
    assert "not a Dask scheduler" in message or "no Dask handshake" in message
    assert elapsed <= 4.0


@pytest.mark.parametrize("address", ["nonsense://x", "http://127.0.0.1:8786", "tcp://", "ucx://h:1", "tcp://a b:1",
                                     "127.0.0.1:8786"])
def test_only_tcp_tls_and_inproc_schemes_are_accepted_before_any_connection(address, monkeypatch):
    import time

    import distributed.comm

    def no_connection(*args, **kwargs):
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(distributed.comm, "connect", no_connection)
    t0 = time.monotonic()
    with pytest.raises(DLTheoryError, match=r"--scheduler must be a tcp://, tls://, inproc:// address"):
        make_executor("dask", scheduler=address)
    assert time.monotonic() - t0 < 0.5
    with pytest.raises(DLTheoryError, match="connect-timeout"):
        make_executor("dask", connect_timeout=0)
    with pytest.raises(DLTheoryError, match="only applies to --executor dask"):
        make_executor("local", connect_timeout=5)


def test_cli_connect_timeout_bounds_the_wait_on_a_silent_scheduler(tmp_path):
    import subprocess
    import time

    server, address = _listener(None)
    env = {**os.environ, "DLTHEORY_EXTRA_EXPERIMENTS": "tests.experiments.toys"}
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        t0 = time.monotonic()
        out = subprocess.run([sys.executable, "-m", "dltheory.cli", "run", "toy-a", "--out", str(tmp_path / "r"),
                              "--executor", "dask", "--scheduler", address, "--connect-timeout", "2"],
                             capture_output=True, text=True, timeout=120, env=env, cwd=root)
        elapsed = time.monotonic() - t0
    finally:
        server.close()
    assert out.returncode == 2, (out.stdout, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "no Dask handshake within 2 s" in lines[0] and "Traceback" not in out.stderr
    assert elapsed < 60  # import + 2 s deadline; hung for > 10 minutes before
    assert not (tmp_path / "r").exists()  # nothing written
