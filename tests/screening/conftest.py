import pytest

from opennrm.screening import services
from tests.factories import make_indicator_set


@pytest.fixture
def test_list(monkeypatch):
    """The engine's test list ("test-adult" version "1") stands in for the data files (their
    content has its own tests)."""
    indicator_set = make_indicator_set()
    monkeypatch.setattr(services.indicator_sets, "all_sets",
                        lambda: {indicator_set.key: indicator_set})
    return indicator_set
