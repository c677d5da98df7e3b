"""HCL for bake: our own parser and evaluator.

Why not python-hcl2 (evaluated first, version 8.1.4): it returns every expression as a
"${...}" string (`v1 = FOO > 5 ? "a" : "b"` comes back as '${FOO > 5 ? "a" : "b"}', a quoted
template as '"pre-${FOO}"') that we would have to parse again anyway; it returns heredocs as their
raw source ('"<<EOT\\nFROM ${X}\\nEOT"'), and it keeps no line numbers, which every error message
must name (`docker-bake.hcl:12: target "api": ...`). pyhcl only reads HCL1. Since an expression
parser is needed in any case, one recursive-descent parser for the whole native syntax (parser.py)
is smaller than a second-pass over python-hcl2's strings, and it has no dependency.
"""
