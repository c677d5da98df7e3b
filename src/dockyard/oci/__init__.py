"""OCI models (pure), the Store protocol, and its two implementations.

Pure: mediatypes, models. I/O edges: layout (disk), registry (HTTP).
"""
