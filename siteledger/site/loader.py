"""Load a site YAML file into a :class:`SiteConfig`, reporting every problem with its place.

Each problem names the file, the line, the key path (``flows[3].to``) and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from siteledger.site.models import SiteConfig, semantic_problems

MAX_CONFIG_BYTES = 8 * 1024 * 1024
MAX_YAML_NODES = 2_000_000  # guards against alias ("billion laughs") expansion
MAX_YAML_DEPTH = 100  # a site file nests 6 levels deep

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<root>'}: {self.message}"


class SiteConfigError(ValueError):
    """A site file that cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# libyaml's parser where it is installed (ten times faster than PyYAML's own on a site file);
# its composer recurses in C without a limit, so nesting is checked first on the event stream
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):  # type: ignore[misc,valid-type]
    """Safe loader that refuses duplicate keys instead of silently keeping the last one, and
    tags a configuration file has no use for."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # an explicit tag on a value it does not fit (!!bool maybe, !!int 1.5, !!map [1]) makes
        # PyYAML's constructors raise bare KeyError, ValueError or TypeError: locate them
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            if isinstance(node, yaml.ScalarNode):
                what = repr(node.value[:40])
            else:
                what = "a sequence" if isinstance(node, yaml.SequenceNode) else "a mapping"
            raise yaml.constructor.ConstructorError(
                None, None, f"{what} cannot be read as {tag}", node.start_mark
            ) from exc


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Any:
    loader.flatten_mapping(node)
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, "mapping key is not hashable", key_node.start_mark
            ) from exc
        if key in seen:
            raise yaml.constructor.ConstructorError(
                f"while reading a mapping (line {seen[key] + 1})",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


# Dates stay text for the models to parse: PyYAML's own date constructor raises a bare
# ValueError on an impossible date such as 2025-02-30, which would lose the file and line.
def _timestamp_as_text(loader: _Loader, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp_as_text)


def _integer(loader: _Loader, node: yaml.Node) -> Any:
    # Python refuses to convert more than 4300 digits with a bare ValueError
    try:
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)  # type: ignore[arg-type]
    except ValueError as exc:
        if "digits" not in str(exc):
            raise
        digits = len(str(node.value))
        raise yaml.constructor.ConstructorError(
            None, None, f"a number of {digits} digits is too long", node.start_mark
        ) from exc


_Loader.add_constructor("tag:yaml.org,2002:int", _integer)


def _refuse_tag(loader: _Loader, node: yaml.Node) -> Any:
    # bytes, sets and ordered pairs would be coerced silently into text and lists
    tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
    raise yaml.constructor.ConstructorError(
        None, None, f"the tag {tag} has no place in a configuration file", node.start_mark
    )


for _tag in ("binary", "set", "omap", "pairs"):
    _Loader.add_constructor(f"tag:yaml.org,2002:{_tag}", _refuse_tag)


def _check_nesting(text: str) -> None:
    """Raise a located problem where collections nest deeper than :data:`MAX_YAML_DEPTH`,
    reading the event stream (no recursion), before anything composes the document."""
    depth = 0
    for event in yaml.parse(text, Loader=_SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                message = f"YAML nests deeper than {MAX_YAML_DEPTH} levels"
                raise SiteConfigError([ConfigProblem("", "", message, line)])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _line_index(
    root: yaml.Node,
    max_nodes: int = MAX_YAML_NODES,
    starts: dict[tuple[int, int], str] | None = None,
) -> dict[str, int]:
    """Key path -> 1-based line of the node it names (and in ``starts``, the (line, column)
    where each node starts -> its key path); raises a located problem for an alias
    inside the collection it names, aliases expanding past ``max_nodes`` nodes or nesting
    deeper than :data:`MAX_YAML_DEPTH` levels."""
    index: dict[str, int] = {}
    budget = [max_nodes]
    ancestors: set[int] = set()

    def fail(path: str, message: str) -> None:
        raise SiteConfigError([ConfigProblem("", path, message, _line_for(index, path))])

    def walk(node: yaml.Node, path: str, depth: int) -> None:
        budget[0] -= 1
        if budget[0] < 0:
            fail(path, f"YAML expands to more than {max_nodes} nodes")
        if id(node) in ancestors:
            fail(path, "an alias refers to the collection that holds it (endless nesting)")
        if depth > MAX_YAML_DEPTH:
            fail(path, f"YAML nests deeper than {MAX_YAML_DEPTH} levels")
        index.setdefault(path, node.start_mark.line + 1)
        if starts is not None:
            starts.setdefault((node.start_mark.line, node.start_mark.column), path)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            ancestors.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                child = f"{path}.{key}" if path else str(key)
                index.setdefault(child, key_node.start_mark.line + 1)
                walk(value_node, child, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, f"{path}[{i}]", depth + 1)
        ancestors.discard(id(node))

    sizes: dict[int, int] = {}

    def expanded(node: yaml.Node, depth: int) -> int:
        # nodes after alias expansion, each shared node counted once per use but computed once;
        # a cycle or a depth past the limit counts nothing here: walk() reports it with its path
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in ancestors or depth > MAX_YAML_DEPTH:
            return 0
        ancestors.add(id(node))
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = node.value
        total = 1 + sum(expanded(child, depth + 1) for child in children)
        ancestors.discard(id(node))
        sizes[id(node)] = min(total, max_nodes + 1)
        return sizes[id(node)]

    if expanded(root, 0) > max_nodes:
        fail("", f"YAML expands to more than {max_nodes} nodes")
    walk(root, "", 0)
    return index


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path


def _line_for(index: dict[str, int], path: str) -> int | None:
    probe = path
    while probe:
        if probe in index:
            return index[probe]
        cut = max(probe.rfind("."), probe.rfind("["))
        probe = probe[:cut] if cut > 0 else ""
    return index.get("")


def parse_site_text(text: str, file: str = "<string>") -> SiteConfig:
    """Parse and validate site YAML text; raises :class:`SiteConfigError` listing every problem."""
    return parse_model_text(text, SiteConfig, file, semantic_problems)


@dataclass(frozen=True)
class YamlDocument:
    """A YAML mapping as loaded, with the line of every key path, to report problems by line."""

    file: str
    data: dict[str, Any]
    lines: dict[str, int]

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest parent the file has."""
        return _line_for(self.lines, path)

    def problem(self, path: str, message: str) -> ConfigProblem:
        return ConfigProblem(self.file, path, message, self.line(path))


def parse_yaml_mapping(
    text: str, file: str = "<string>", *, max_nodes: int = MAX_YAML_NODES
) -> YamlDocument:
    """YAML text whose top is a mapping, with its line index; raises :class:`SiteConfigError`
    (with the line where there is one) for invalid YAML, duplicate keys, another top, or a
    document expanding past ``max_nodes`` nodes or :data:`MAX_YAML_DEPTH` levels."""
    index: dict[str, int] = {}
    starts: dict[tuple[int, int], str] = {}
    try:
        _check_nesting(text)
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            index = _line_index(root, max_nodes, starts) if root is not None else {}
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(
            str(p) for p in (getattr(exc, "context", None), getattr(exc, "problem", None)) if p
        ) or str(exc)
        # a value refused while constructing: name its key
        path = starts.get((mark.line, mark.column), "") if mark is not None else ""
        raise SiteConfigError(
            [ConfigProblem(file, path, f"not valid YAML: {reason}", line)]
        ) from exc
    except SiteConfigError as exc:
        raise SiteConfigError(
            [ConfigProblem(file, p.path, p.message, p.line) for p in exc.problems]
        ) from exc
    except UnicodeEncodeError as exc:  # text (not a file) holding lone surrogates
        raise SiteConfigError(
            [ConfigProblem(file, "", f"not valid text: {exc.reason} at offset {exc.start}")]
        ) from exc
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as exc:
        # a collection whose tag it does not fit, refused after construct_object returned
        raise SiteConfigError(
            [ConfigProblem(file, "", f"not valid YAML: a value does not fit its tag ({exc})")]
        ) from exc
    except RecursionError as exc:  # a last guard: the checks above bound the nesting
        raise SiteConfigError(
            [ConfigProblem(file, "", "not valid YAML: collections nest too deeply")]
        ) from exc
    if not isinstance(data, dict):
        kind = type(data).__name__ if data is not None else "an empty document"
        raise SiteConfigError(
            [ConfigProblem(file, "", f"expected a mapping at the top, got {kind}", 1)]
        )
    return YamlDocument(file, data, index)


def validation_problems(
    exc: ValidationError, doc: YamlDocument, prefix: str = ""
) -> list[ConfigProblem]:
    """``exc``'s errors as problems located in ``doc``; ``prefix`` is the key path of the part
    of the document that was validated (``alerts.rules[2]``)."""
    problems = []
    for err in exc.errors(include_url=False):
        path = _loc_to_path(tuple(err["loc"]))
        if prefix:
            path = f"{prefix}.{path}" if path and not path.startswith("[") else prefix + path
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        problems.append(doc.problem(path, message))
    return problems


def parse_model_text(
    text: str,
    model: type[M],
    file: str = "<string>",
    semantic: Callable[[M], list[tuple[str, str]]] | None = None,
) -> M:
    """Parse YAML text into ``model``; every problem (syntax, schema, then ``semantic``'s
    (key path, reason) pairs) is raised as :class:`SiteConfigError` with file and line."""
    doc = parse_yaml_mapping(text, file)
    try:
        cfg = model.model_validate(doc.data)
    except ValidationError as exc:
        raise SiteConfigError(validation_problems(exc, doc)) from None

    found = semantic(cfg) if semantic is not None else []
    if found:
        raise SiteConfigError([doc.problem(path, msg) for path, msg in found])
    return cfg


def load_site(path: str | Path) -> SiteConfig:
    """Load a site YAML file; raises :class:`SiteConfigError` with every problem found."""
    return parse_site_text(read_config_text(path), str(path))


def read_config_text(path: str | Path, max_bytes: int = MAX_CONFIG_BYTES) -> str:
    """The text of a configuration file, refused (with the reason) when larger than
    ``max_bytes``, binary or not UTF-8."""
    p = Path(path)
    name = str(path)
    try:
        size = p.stat().st_size
        if size > max_bytes:
            raise SiteConfigError(
                [ConfigProblem(name, "", f"file is {size} bytes; the limit is {max_bytes}")]
            )
        raw = p.read_bytes()
    except OSError as exc:
        raise SiteConfigError(
            [ConfigProblem(name, "", f"cannot read: {exc.strerror or exc}")]
        ) from exc
    if b"\x00" in raw:
        raise SiteConfigError(
            [ConfigProblem(name, "", "binary file (contains NUL bytes), not YAML")]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SiteConfigError(
            [ConfigProblem(name, "", f"not UTF-8 text (bad byte at offset {exc.start})")]
        ) from exc
    return text


def validate_site_file(path: str | Path) -> list[ConfigProblem]:
    """Every problem with a site file; an empty list means it is valid."""
    try:
        load_site(path)
    except SiteConfigError as exc:
        return exc.problems
    return []


def dump_site(cfg: SiteConfig) -> str:
    """YAML text for a site (keys in model order, aliases such as ``from``/``to`` used)."""
    data = cfg.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
