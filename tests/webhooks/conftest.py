import pytest

from delivery.webhooks import addresses


@pytest.fixture(autouse=True)
def fresh_addresses():
    """Each test starts with no webhook address remembered (another test's database had other rows)."""
    addresses.forget_all()
    yield
    addresses.forget_all()
