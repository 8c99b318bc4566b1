"""Fixtures of the integration tests.

``client``: one real dask.distributed cluster for every Dask test module (a
scheduler and two single-threaded worker processes, on 127.0.0.1 only),
started when a test first asks for it and stopped at the end of the session.
"""

import pytest


@pytest.fixture(scope="session")
def client():
    """A Client of a LocalCluster: two single-threaded worker processes."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client
