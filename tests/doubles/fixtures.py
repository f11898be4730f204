"""pytest fixtures for the doubles; a test module takes them with
`from tests.doubles.fixtures import meta_double, tiktok_double`."""
import pytest

from tests.doubles.meta import MetaDouble
from tests.doubles.tiktok import TikTokDouble


@pytest.fixture
def meta_double():
    """A fresh Meta double (Facebook Login dialog + Graph API), stopped after the test."""
    double = MetaDouble().start()
    yield double
    double.stop()


@pytest.fixture
def tiktok_double():
    """A fresh TikTok double (Login Kit + Content Posting API), stopped after the test."""
    double = TikTokDouble().start()
    yield double
    double.stop()
