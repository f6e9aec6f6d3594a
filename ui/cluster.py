"""The Dask scheduler the server's sweeps go to, started lazily and shared by every session.

``$SEQATTN_DASK_SCHEDULER`` names an existing cluster; without it the server
starts one ``LocalCluster`` (one single-threaded worker process per core) the
first time a sweep needs it, and every later sweep reuses it. Rendering a page
never starts it: estimates count :func:`planned_workers` instead.
"""

from __future__ import annotations

import streamlit as st

from seqattn.sweeps import cluster


def planned_workers() -> int:
    """How many cells run at once, for estimates (the local cluster's size; nothing is started)."""
    return cluster.local_workers()


@st.cache_resource(show_spinner="Starting the local Dask cluster (a few seconds, once per server)…",
                   validate=lambda process: process.alive())
def _local_cluster_process() -> cluster.ClusterProcess:
    # In a process of its own: Dask's spawned workers would otherwise re-run
    # the page Streamlit installs as __main__.
    return cluster.ClusterProcess()


def sweep_scheduler() -> str:
    """The scheduler address for :func:`seqattn.jobs.control.start_sweep`: the configured one, else the server's local cluster.

    Raises:
        ValueError: ``$SEQATTN_DASK_SCHEDULER`` is not an address.
    """
    return cluster.scheduler_address() or _local_cluster_process().address
