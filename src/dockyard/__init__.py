"""dockyard: build, verify and publish multi-architecture container images."""

__version__ = "0.1.0"
