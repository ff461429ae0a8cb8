"""The fuzz tests' marker: ``pytest -m fuzz`` runs only them, ``-m "not fuzz"`` skips them."""


def pytest_configure(config):
    config.addinivalue_line("markers", "fuzz: the fixed-budget fuzz run (tests/fuzz; long campaigns: run.py)")
