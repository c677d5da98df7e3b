"""Configuration: the validated model (model.py), sizes (sizes.py), `${NAME}`
interpolation (interpolate.py), typed field reads (fields.py), the dockyard.toml
schema (native.py), a target's live health check keys (healthtable.py, durations.py)
and the file-finding loader (loader.py)."""

from dockyard.config.loader import find_config, load_config
from dockyard.config.model import Config, Policy, Project, Retry, TagsConfig, Target

__all__ = [
    "Config",
    "Policy",
    "Project",
    "Retry",
    "TagsConfig",
    "Target",
    "find_config",
    "load_config",
]
