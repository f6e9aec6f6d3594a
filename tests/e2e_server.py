"""Start and stop a real ``streamlit run dashboard.py`` server for the end-to-end test.

The server runs in its own process group (``start_new_session=True``), so
stopping it also stops the training workers it launched: nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
HEALTH_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


def venv_python() -> str:
    """The project's venv interpreter when there is one, else the running one."""
    candidate = PROJECT / ".venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    runs_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def tensorflow_loaded(pid: int) -> bool:
    """True if the process has TensorFlow's shared library mapped."""
    try:
        return "libtensorflow" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _health(url: str) -> str | None:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.read().decode(errors="replace").strip()
    except (urllib.error.URLError, OSError):
        return None


def start_server(runs_dir: Path, log_path: Path, timeout: float = HEALTH_TIMEOUT, port: int | None = None,
                 env_overrides: dict[str, str] | None = None, script: str = "dashboard.py",
                 cwd: Path = PROJECT) -> Server:
    """Start the dashboard on ``port`` (default: a free one) and wait until its health check answers ``ok``.

    ``env_overrides`` are set in the server's environment on top of this process's. ``script``
    in ``cwd`` is what runs (another app, e.g. a benchmark's reference page, with the same flags).
    """
    port = port or free_port()
    env = dict(os.environ, **(env_overrides or {}))
    env["SEQATTN_RUNS_DIR"] = str(runs_dir)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["PYTHONUNBUFFERED"] = "1"
    command = [
        venv_python(), "-m", "streamlit", "run", script,
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]
    log = open(log_path, "wb")
    try:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()
    server = Server(process, port, log_path, runs_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}:\n{server.log_tail()}")
        if _health(server.url) == "ok":
            return server
        time.sleep(0.05)  # a browser opens the page as soon as the server says so
    stop_server(server)
    raise RuntimeError(f"streamlit did not answer {server.url}/_stcore/health within {timeout:.0f} s:\n"
                       f"{server.log_tail()}")


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
        return True
    except ProcessLookupError:
        return False


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def stop_server(server: Server, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the server's process group (server and workers), then SIGKILL what is left."""
    pgid = server.process.pid  # start_new_session: the server leads its own group
    _signal_group(pgid, signal.SIGTERM)
    try:
        server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + timeout
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _group_alive(pgid):
        _signal_group(pgid, signal.SIGKILL)
    try:
        server.process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL cannot be ignored
        pass


# Page probes shared by the end-to-end test and bench/demo_latency.py.
# Points in the live loss chart: the longest trace of the Plotly figure whose
# y axis is the loss. Plotly decodes the figure's base64 arrays into _fullData.
LOSS_POINTS_JS = """
() => {
  const count = (x) => {
    if (!x) return 0;
    if (typeof x.length === 'number') return x.length;
    if (x.bdata) {
      const size = {i1: 1, u1: 1, i2: 2, u2: 2, i4: 4, u4: 4, f4: 4, f8: 8}[x.dtype] || 1;
      return atob(x.bdata).length / size;
    }
    return 0;
  };
  let best = -1;
  for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    const layout = el._fullLayout || el.layout || {};
    const title = ((layout.yaxis || {}).title || {}).text || '';
    if (!/loss/i.test(title)) continue;
    for (const trace of el._fullData || el.data || []) best = Math.max(best, count(trace.x));
  }
  return best;
}
"""

# The first heatmap on the page: its rows (output steps) and x tick labels.
HEATMAP_JS = """
() => {
  for (const el of document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')) {
    const trace = (el._fullData || []).find(t => t.type === 'heatmap');
    if (!trace || !trace.z) continue;
    const xaxis = (el._fullLayout || {}).xaxis || {};
    return {rows: trace.z.length, cols: trace.z[0] ? trace.z[0].length : 0,
            ticks: Array.from(xaxis.ticktext || []).map(String)};
  }
  return null;
}
"""
