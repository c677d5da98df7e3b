"""Import paths for the bench scripts; each imports this module before anything else.

bench/ holds copy.py, which would shadow the standard library's `copy` module
(dataclasses and tarfile import it): bench/ leaves sys.path, and the repository
root (tests.helpers, bench.*), src/ and examples/tools/ come in. Only os and
sys are imported here: anything more could import `copy` first.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]
ROOT = os.path.dirname(_HERE)
for _path in (os.path.join(ROOT, "examples", "tools"), os.path.join(ROOT, "src"), ROOT):
    sys.path.insert(0, _path)
