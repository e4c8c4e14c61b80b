from __future__ import annotations

import importlib.util

import pytest

if importlib.util.find_spec("xllamacpp") is None:  # pragma: no cover - the CI installs it
    pytest.skip("the local model needs the 'local' extra", allow_module_level=True)


@pytest.fixture(scope="session")
def local_model():
    from rlm_graph.models import resolve_model

    return resolve_model("local")
