import pathlib

import pytest

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture
def debian_fixture_dir():
    return FIXTURES / "debian"
