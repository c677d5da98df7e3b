"""Configuration: the validated model (model.py), sizes (sizes.py), the dockyard.toml loader (loader.py)."""
