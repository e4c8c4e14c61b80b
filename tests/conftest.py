import contextlib
import os
import uuid
from collections.abc import Iterator

import pytest

# Checkpoints must round-trip under LangGraph's strict msgpack allowlist.
os.environ.setdefault("LANGGRAPH_STRICT_MSGPACK", "true")
# Leases of crashed test runs expire fast (a dead process on this machine is seen at once).
os.environ.setdefault("RLM_GRAPH_LEASE_SECONDS", "3")

# The machine's PostgreSQL (trust auth on 127.0.0.1); .ci/run starts it.
POSTGRES_ADMIN = os.environ.get("RLM_GRAPH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new database on the real PostgreSQL server, dropped after."""
    psycopg = pytest.importorskip("psycopg", reason="needs the postgres extra")
    name = f"rlm_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES_ADMIN}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield f"{POSTGRES_ADMIN}/{name}"
    with psycopg.connect(f"{POSTGRES_ADMIN}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh database on the real PostgreSQL server for this test session, dropped after."""
    with fresh_database() as url:
        yield url


@pytest.fixture
def fresh_postgres_url():
    """A database of this test's own, with no tables yet, dropped after."""
    with fresh_database() as url:
        yield url
