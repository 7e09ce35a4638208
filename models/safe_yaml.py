"""Read a small YAML file defensively: size, encoding, duplicate keys and alias expansion checked first.

``yaml.safe_load`` alone trusts its input in four ways a user's file can abuse: a later duplicate
key silently replaces an earlier one; a few lines of nested aliases expand into billions of nodes
("billion laughs"), which whatever walks the result then pays for; any bytes are decoded; and a
directory or a device is read like a file. :func:`load_yaml` refuses each before building any
Python object:

1. the path must be an existing regular file of at most :data:`MAX_BYTES`;
2. its bytes must be UTF-8 text (a leading byte-order mark is accepted and dropped), without NUL;
3. the document is *composed* (parsed into a node graph, where an alias is one shared node), the
   size of its full expansion is counted with each node's count memoised, and a graph that would
   expand past :data:`MAX_NODES` nodes is refused;
4. only then is it constructed, by a :class:`yaml.SafeLoader` whose mappings refuse duplicate keys.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import ScenarioError

#: Largest file accepted, in bytes (the shipped scenarios are under 1 kB).
MAX_BYTES = 64 * 1024
#: Largest number of nodes the document may expand to, aliases expanded.
MAX_NODES = 10_000


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader whose mappings refuse duplicate keys (naming the key and both lines)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise ScenarioError(f"{loader.name}: line {key_node.start_mark.line + 1}: a mapping key "
                                f"must be a plain value, not {key!r}") from None
        if key in seen:
            raise ScenarioError(f"{loader.name}: line {key_node.start_mark.line + 1}: duplicate key "
                                f"{key!r} (first given on line {seen[key] + 1}); give each key once")
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def expanded_size(node: yaml.Node, limit: int = MAX_NODES) -> int:
    """Number of nodes of ``node`` with every alias expanded, counting at most to past ``limit``.

    ``size(n) = 1 + Σ size(child)``, memoised by node identity, so a graph of ``k`` nodes costs
    ``O(k)`` however large its expansion.
    """
    memo: dict[int, int] = {}

    def size(n: yaml.Node, depth: int = 0) -> int:
        if id(n) in memo:
            return memo[id(n)]
        if depth > 100:
            return limit + 1
        memo[id(n)] = limit + 1          # a cycle counts as too large
        if isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k, depth + 1) + size(v, depth + 1) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(v, depth + 1) for v in n.value)
        else:
            total = 1
        memo[id(n)] = min(total, limit + 1)
        return memo[id(n)]

    return size(node)


def load_yaml(path: str | Path, what: str = "scenario file"):
    """Read ``path`` as one YAML document after the checks of the module docstring.

    Raises
    ------
    ScenarioError
        Naming the file and what is wrong with it.
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError(f"{path}: no such {what}")
    if not path.is_file():
        raise ScenarioError(f"{path}: not a regular file (a directory or a device); expected a YAML {what}")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ScenarioError(f"{path}: {size} bytes is too large: expected a YAML {what} of at most {MAX_BYTES} bytes")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: byte {exc.start} is not UTF-8 text (binary, or saved in another "
                            "encoding): expected a UTF-8 YAML file") from None
    if "\x00" in text:
        raise ScenarioError(f"{path}: contains NUL bytes (a binary file): expected a UTF-8 YAML {what}")
    loader = _StrictLoader(text)
    loader.name = str(path)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if expanded_size(node) > MAX_NODES:
            raise ScenarioError(f"{path}: expands (aliases included) to more than {MAX_NODES} YAML "
                                f"nodes: expected a small {what}; write values out instead of nesting aliases")
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML ({exc})") from None
    finally:
        loader.dispose()
