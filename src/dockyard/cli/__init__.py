"""Thin Typer commands: parse arguments, turn them into Settings (settings.py), open a
Workspace, call one driver of dockyard.pipeline, render its result.

Each command module is imported only when its command runs (main.py), and
imports the library inside the command function: `dockyard tags` or `--help`
never pay for httpx or the builders.
"""
