"""The merged filesystem view of an image's layers, reduced to the files a reader keeps.

Pure and in memory (archscan feeds it tar entries; nothing is extracted).
Per path only (layer index, value) of the files a reader keeps is stored:
archscan keeps ELF programs (their ElfHeader), the SBOM readers the package
databases and Go build info they parse (any value; None = not kept). Whiteouts
(`.wh.NAME`), opaque directories (`.wh..wh..opq`) and a non-directory
replacing a directory remove what lower layers put there (never what the
same layer put there); a later version of a file replaces the earlier one.
A hard link is resolved by `header_of`, a lookup in this view.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

V = TypeVar("V")

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class LimitReached(Exception):
    def __init__(self, message: str, *, total: bool) -> None:
        super().__init__(message)
        self.total = total


class _Node(Generic[V]):
    """A path of the final view that is, or leads to, a kept file (`header`: its value)."""

    __slots__ = ("children", "header", "layer")

    def __init__(self) -> None:
        self.children: dict[str, _Node[V]] | None = None
        self.header: V | None = None
        self.layer = -1


class View(Generic[V]):
    """The merged filesystem, reduced to kept files (ELF programs: View[ElfHeader]) and
    their directories.

    Removal of everything under a path is one dictionary pop plus a walk of
    what was removed, so whiteouts cost nothing where no ELF file lives.
    Walks are iterative: a hostile layer may nest paths thousands deep.
    """

    def __init__(self, max_nodes: int, *, what: str = "ELF files") -> None:
        self.root: _Node[V] = _Node()
        self.nodes = 0
        self.max_nodes = max_nodes
        self.what = what  # the kept files, as the limit's message names them

    def _find(self, parts: tuple[str, ...], *, as_dirs: bool = True) -> _Node[V] | None:
        """The node at `parts`; with as_dirs, a file at any ancestor is gone
        (an entry below a path makes that path a directory)."""
        node = self.root
        for part in parts:
            if as_dirs:
                node.header = None
            if node.children is None or part not in node.children:
                return None
            node = node.children[part]
        return node

    def _make(self, parts: tuple[str, ...]) -> _Node[V]:
        node = self.root
        for part in parts:
            # A directory now lives here: any file at this path is gone.
            node.header = None
            if node.children is None:
                node.children = {}
            child = node.children.get(part)
            if child is None:
                self.nodes += 1
                if self.nodes > self.max_nodes:
                    raise LimitReached(
                        f"more than {self.max_nodes} paths of {self.what} in the image", total=True
                    )
                child = node.children[part] = _Node()
            node = child
        return node

    def put(self, parts: tuple[str, ...], layer: int, header: V | None) -> None:
        """A non-directory entry: it replaces the path, and hides lower layers' tree below it."""
        node = self._make(parts) if header is not None else self._find(parts)
        if node is None:
            return
        node.header, node.layer = header, layer
        _prune_children(node, layer)

    def directory(self, parts: tuple[str, ...], layer: int) -> None:
        node = self._find(parts)
        if node is not None:
            node.header = None  # a directory replaces a file; its contents merge

    def whiteout(self, parts: tuple[str, ...], layer: int) -> None:
        parent = self._find(parts[:-1])
        if parent is None:
            return
        parent.header = None  # it holds a whiteout: a directory
        if parent.children is None:
            return
        child = parent.children.get(parts[-1])
        if child is not None and _prune(child, layer):
            del parent.children[parts[-1]]

    def opaque(self, parts: tuple[str, ...], layer: int) -> None:
        node = self._find(parts)
        if node is not None:
            node.header = None
            _prune_children(node, layer)

    def header_of(self, parts: tuple[str, ...]) -> V | None:
        node = self._find(parts, as_dirs=False) if parts else None
        return None if node is None else node.header

    def files(self) -> Iterator[tuple[str, V]]:
        """(display path, value) of every kept file, in path order."""
        stack: list[tuple[tuple[str, ...], _Node[V]]] = [((), self.root)]
        while stack:
            parts, node = stack.pop()
            if node.header is not None:
                yield _display(parts), node.header
            if node.children:
                for name in sorted(node.children, reverse=True):
                    stack.append(((*parts, name), node.children[name]))


def _prune(node: _Node[V], layer: int) -> bool:
    """Remove what layers below `layer` put in `node`'s subtree; True if nothing is left."""
    _prune_children(node, layer)
    if node.header is not None and node.layer < layer:
        node.header = None
    return node.header is None and not node.children


def _prune_children(node: _Node[V], layer: int) -> None:
    # Post-order without recursion: children before the parent decides it is empty.
    stack: list[tuple[_Node[V], bool]] = [(node, False)]
    while stack:
        current, expanded = stack.pop()
        if not current.children:
            continue
        if not expanded:
            stack.append((current, True))
            stack.extend((child, False) for child in current.children.values())
            continue
        for name in list(current.children):
            child = current.children[name]
            if child.header is not None and child.layer < layer:
                child.header = None
            if child.header is None and not child.children:
                del current.children[name]


def _display(parts: tuple[str, ...]) -> str:
    text = "/" + "/".join(parts)
    # Undecodable bytes and control characters are shown escaped, never raw.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def entry_parts(name: str) -> tuple[str, ...]:
    """A tar member's path components as given: `.` and empty ones dropped, `..` kept as a name."""
    return tuple(p for p in name.split("/") if p not in ("", "."))


def apply_structure(view: View, index: int, parts: tuple[str, ...], *, is_dir: bool) -> bool:
    """Apply what a layer entry says about the tree itself (its root, a whiteout, an opaque
    marker, a directory) to `view`; True when that was all it said, False for a file the
    caller keeps or drops."""
    if not parts:
        return True  # the layer's root directory
    base = parts[-1]
    if base.startswith(WHITEOUT):
        if base == OPAQUE:
            view.opaque(parts[:-1], index)
        elif not base.startswith(WHITEOUT + WHITEOUT):  # other .wh..wh. names: aufs metadata
            view.whiteout((*parts[:-1], base[len(WHITEOUT) :]), index)
        return True
    if is_dir:
        view.directory(parts, index)
        return True
    return False

