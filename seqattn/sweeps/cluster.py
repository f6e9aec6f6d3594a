"""The Dask cluster that runs sweep cells: an existing one, or an on-demand local one.

``$SEQATTN_DASK_SCHEDULER=tcp://host:port`` (or ``--scheduler`` on the CLI)
sends cells to an existing cluster; its workers need seqattn importable (start
them from the project's ``.venv``, where ``make`` installs it, docs/cluster.md) and nothing else: cells
return results, they never touch the runs folder. Without an address a
``distributed.LocalCluster`` is started once per process (one single-threaded
worker process per core) and reused by every sweep after it.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import seqattn
from seqattn.settings import read
from seqattn.sweeps.cells import CellResult, CellSpec, train_cell
from seqattn.training.session import SetupSource
from seqattn.training.threads import fit_threads_to_process
from seqattn.processes import lower_priority_to

SCHEDULER_ENV = "SEQATTN_DASK_SCHEDULER"
WORKERS_ENV = "SEQATTN_DASK_WORKERS"
NICE_ENV = "SEQATTN_WORKER_NICE"
# How long a scheduler may take to answer, and to have a worker, before a sweep gives up on it.
CONNECT_SECONDS = 10.0
_lock = threading.Lock()
_local: Any = None
_prepared = False


def scheduler_address(explicit: str | None = None) -> str | None:
    """The scheduler to use: ``explicit``, else ``$SEQATTN_DASK_SCHEDULER``, else None (local).

    Raises:
        ValueError: an address that is not ``tcp://host:port`` (or another Dask protocol).
    """
    address = explicit or os.environ.get(SCHEDULER_ENV) or None
    if address is not None and "://" not in address:
        raise ValueError(f"a Dask scheduler address looks like tcp://host:8786; got {address!r}.")
    return address


def local_workers() -> int:
    """Worker processes of the local cluster: ``$SEQATTN_DASK_WORKERS`` (1 to 256), else the machine's cores.

    Raises:
        SettingError: the variable holds a value that is not accepted.
    """
    workers = read(WORKERS_ENV)
    return int(workers) if workers is not None else max(1, os.cpu_count() or 1)


def local_cluster() -> Any:
    """This process's ``LocalCluster``, started on first use and reused after.

    One worker process per core, one thread each; TensorFlow in each worker
    gets one intra-op thread, so the workers do not fight over the cores.
    """
    global _local
    with _lock:
        if _local is None or _local.status.name in ("closed", "closing", "failed"):
            # distributed is imported where a cluster is needed: it is slow to import, and pages import this module.
            from distributed import LocalCluster

            _local = LocalCluster(
                n_workers=local_workers(),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                env={"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1",
                     "OMP_NUM_THREADS": "1", "TF_CPP_MIN_LOG_LEVEL": "2", NICE_ENV: "10"},
            )
        return _local


class ClusterError(RuntimeError):
    """A cluster a sweep cannot use: the message is one line for the user (what is wrong, what to do)."""


def _within(seconds: float, what: str, call: Any) -> Any:
    """``call()`` in a daemon thread, given up after ``seconds``: a listener that is not a Dask scheduler
    never answers the handshake, and distributed's own timeouts do not end that wait.

    Raises:
        TimeoutError: no answer in time (the thread is left behind, a daemon).
        Exception: whatever ``call`` raised.
    """
    outcome: dict[str, Any] = {}

    def attempt() -> None:
        try:
            outcome["value"] = call()
        except BaseException as exc:  # handed to the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, name=f"seqattn-{what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if "error" in outcome:
        raise outcome["error"]
    if "value" not in outcome:
        raise TimeoutError(f"no answer within {seconds:.0f} s")
    return outcome["value"]


def connect(address: str, timeout: float = CONNECT_SECONDS) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address``, checked before any cell is sent.

    Raises:
        ClusterError: no Dask scheduler answers there within ``timeout`` seconds, it has no worker
            after as long again, or the scheduler or a worker cannot import this ``seqattn``
            (:func:`check_environment`).
    """
    from distributed import Client  # slow to import: only where a cluster is used

    try:
        client = _within(timeout + 2, "connect", lambda: Client(address, timeout=f"{timeout:.0f}s", set_as_default=True))
    except Exception as exc:
        raise ClusterError(f"No Dask scheduler answered at {address} within {timeout:.0f} s "
                           f"({exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else 'no reason given'}). "
                           "Check the address, or start one there with `dask scheduler`.") from None
    try:
        try:
            _within(timeout + 2, "workers", lambda: client.wait_for_workers(1, timeout=timeout))
        except Exception:
            raise ClusterError(f"The Dask scheduler at {address} has no worker after {timeout:.0f} s: start some with "
                               f"`.venv/bin/dask worker {address} --nthreads 1 --nworkers N` (docs/cluster.md).") from None
        check_environment(_within(timeout + 2, "probe", lambda: probe_versions(client)), address)
    except BaseException:
        client.close()
        raise
    return client


# Evaluated on the scheduler and every worker. A string for the builtin eval, not a function of
# ours: a function from seqattn would itself need seqattn to be unpickled there.
_PROBE = "__import__('seqattn').__version__"


def probe_versions(client: Any) -> dict[str, Any]:
    """The ``seqattn`` each side imports, by trying: ``{"scheduler": {"packages": {"seqattn": v}},
    "workers": {address: {"packages": {"seqattn": v}}}}`` with None where the import fails.

    Dask's ``get_versions`` reads installed metadata instead, which a scheduler can have without
    being able to import the package (and lack with the package on its path).
    """
    def version(answer: Any) -> str | None:
        return answer if isinstance(answer, str) else None

    try:
        scheduler = version(client.run_on_scheduler(eval, _PROBE))
    except Exception:  # ModuleNotFoundError there, or the scheduler refused the call
        scheduler = None
    workers = client.run(eval, _PROBE, on_error="return")
    return {"scheduler": {"packages": {"seqattn": scheduler}},
            "workers": {address: {"packages": {"seqattn": version(answer)}} for address, answer in workers.items()}}


def check_environment(versions: dict[str, Any], address: str) -> None:
    """Refuse a cluster whose scheduler or workers cannot import this version of ``seqattn``.

    Args:
        versions: :func:`probe_versions`'s answer.
        address: the scheduler's address (for the message).

    Raises:
        ClusterError: one line naming the side that lacks it (or has another version) and how to install it.
    """
    ours = seqattn.__version__
    install = ("start it from this project's virtual environment (`.venv/bin/dask ...`, where `make run` installs "
               "seqattn) or run `pip install -e <checkout>` in its environment; docs/cluster.md")
    scheduler = (versions.get("scheduler") or {}).get("packages", {}).get("seqattn")
    if scheduler != ours:
        has = "cannot import seqattn" if scheduler is None else f"has seqattn {scheduler}, this machine {ours}"
        raise ClusterError(f"The Dask scheduler at {address} {has}: {install}. Nothing was trained.")
    workers = versions.get("workers") or {}
    lacking = sorted(w for w, info in workers.items() if (info or {}).get("packages", {}).get("seqattn") is None)
    other = sorted(w for w, info in workers.items() if w not in lacking and info["packages"]["seqattn"] != ours)
    for names, has in ((lacking, "cannot import seqattn"), (other, f"have another seqattn than this machine's {ours}")):
        if names:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            raise ClusterError(f"{len(names)} of {len(workers)} Dask workers of {address} ({shown}) {has}: "
                               f"{install}. Nothing was trained.")


def client(address: str | None = None) -> Any:
    """A ``distributed.Client`` for ``address`` (see :func:`scheduler_address`), or for the local cluster.

    Raises:
        ClusterError: an external scheduler that cannot run cells (:func:`connect`).
    """
    from distributed import Client  # slow to import: only where a cluster is used

    address = scheduler_address(address)
    if address is None:
        return Client(local_cluster(), set_as_default=True)
    return connect(address)


def close_local_cluster() -> None:
    """Stop the local cluster, if one was started (tests and the CLI call this at exit)."""
    global _local
    with _lock:
        if _local is not None:
            _local.close()
            _local = None


def train_cell_on_worker(spec: CellSpec, stop: Any = None, setups: SetupSource | None = None) -> CellResult:
    """:func:`~seqattn.sweeps.cells.train_cell` as a Dask task: the worker's process is set up once first.

    TensorFlow's threads are fitted to a single-threaded worker, and the
    process is niced when its cluster asks for it (the local cluster does, so
    the dashboard stays responsive while a sweep fills both cores).
    """
    global _prepared
    if not _prepared:
        _prepared = True
        nice = read(NICE_ENV)  # a bad value fails the cell with the setting's message
        if nice is not None:
            lower_priority_to(int(nice))
        fit_threads_to_process(1)
    return train_cell(spec, stop, setups=setups)


class ClusterProcess:
    """A local Dask cluster in a process of its own, for a long-lived parent such as the dashboard's server.

    Starting ``LocalCluster`` inside the Streamlit server would make every
    spawned worker re-run the server's ``__main__`` (the page); here the
    cluster's ``__main__`` is this module. The process prints the scheduler's
    address, then lives until its stdin closes, so it ends with its parent.

    Raises:
        RuntimeError: the cluster did not come up within ``timeout`` seconds.
    """

    def __init__(self, timeout: float = 90.0) -> None:
        root = str(Path(__file__).resolve().parents[2])  # the checkout holding seqattn/
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self.log_path = Path(tempfile.gettempdir()) / f"seqattn-cluster-{os.getpid()}.log"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "seqattn.sweeps.cluster"], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=log, env=env, close_fds=True)
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline().decode().strip() if ready else ""
        if not line.startswith("tcp://"):
            self.close()
            raise RuntimeError(f"the local Dask cluster did not start (see {self.log_path}).")
        self.address = line

    def alive(self) -> bool:
        """True while the cluster's process runs."""
        return self.process.poll() is None

    def close(self) -> None:
        """Stop the cluster (closing its stdin asks it to shut down)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except Exception:
            self.process.kill()


def serve() -> None:
    """Entry point of :class:`ClusterProcess`: start the local cluster, print its address, wait for stdin to close."""
    cluster = local_cluster()
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()  # returns at EOF: the parent closed the pipe or exited
    close_local_cluster()


if __name__ == "__main__":
    serve()
