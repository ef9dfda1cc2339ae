"""Shipped catalog data (TOML), read with ``importlib.resources``; see README.md here."""
