import pytest

from opennrm.screening import services
from tests.factories import make_indicator_set


@pytest.fixture
def test_list(monkeypatch):
    """The engine's test lists ("test-adult" and "test-child", version "1") stand in for the
    data files (their content has its own tests); returns the adults' one."""
    indicator_set, child = make_indicator_set(), make_indicator_set("child")
    monkeypatch.setattr(services.indicator_sets, "all_sets",
                        lambda: {indicator_set.key: indicator_set, child.key: child})
    return indicator_set
