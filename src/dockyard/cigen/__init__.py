"""CI as code (pure): the text of a GitHub Actions workflow, a .gitlab-ci.yml and a Makefile.

Renderers take plain values (a plan, runner labels, registries) and return
text; they never read or write files (pipeline/cifiles.py does). The text is
written out by hand, line by line, so the same inputs give the same bytes:
the committed examples/fleet/ci/ files are checked for drift against it.
"""
