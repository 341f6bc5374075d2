"""Typed settings sections: value checking, ``--set`` overrides and help text.

A section is a dataclass. A field's type says what a value must be; its help is
``field.metadata["help"]`` or else comes from the source: the class docstring's entry
for the field (a line holding just its name, then indented text) and the field's
trailing comment. So ``--help`` is generated from the code and stays true to it.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import textwrap
import tokenize
import tomllib
import types
import typing
from typing import Any, Literal, Mapping, Union

from clvae.train.errors import TrainError

NONE_WORD = "none"


# ---- help text ---------------------------------------------------------------------------


def field_help(cls: type) -> dict[str, str]:
    """Field name -> help text, for a dataclass and the dataclasses it inherits from."""
    helps: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            helps.update(_source_help(klass))
    for f in dataclasses.fields(cls):
        if "help" in f.metadata:
            helps[f.name] = f.metadata["help"]
    return helps


def _source_help(cls: type) -> dict[str, str]:
    """Docstring entries joined with trailing comments of the fields ``cls`` declares."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # made at run time (dataclasses.make_dataclass)
        return {}
    declared = _declared_lines(source)
    comments = _comment_lines(source)
    entries = _docstring_entries(inspect.getdoc(cls) or "", set(declared))
    helps = {}
    for name, line in declared.items():
        entry, comment = entries.get(name, ""), comments.get(line, "")
        text = entry if comment in entry else f"{entry} {comment}".strip()
        if text:
            helps[name] = text
    return helps


def _declared_lines(source: str) -> dict[str, int]:
    """Annotated class-body fields -> their line number in ``source``."""
    body = ast.parse(source).body[0].body
    return {node.target.id: node.lineno for node in body if isinstance(node, ast.AnnAssign)}


def _comment_lines(source: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {tok.start[0]: tok.string.lstrip("#").strip() for tok in tokens if tok.type == tokenize.COMMENT}


def _docstring_entries(doc: str, names: set[str]) -> dict[str, str]:
    """Numpydoc-like entries: a line that is a field name, then its indented description."""
    entries: dict[str, list[str]] = {}
    current = None
    for line in doc.splitlines():
        if line.strip() in names and not line.startswith(" "):
            current = line.strip()
            entries[current] = []
        elif current and line.startswith(" "):
            entries[current].append(line.strip())
        else:
            current = None
    return {name: " ".join(lines) for name, lines in entries.items()}


def type_name(tp: Any) -> str:
    """What a value of type ``tp`` looks like, in words."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return "one of " + " | ".join(str(a) for a in args)
    if _is_optional(tp):
        return f"{type_name(_without_none(tp))} or {NONE_WORD}"
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {type_name(args[0])}"
        return f"a list of {len(args)} x {type_name(args[0])}"
    if origin is dict:
        return "a table"
    return {bool: "true/false", int: "integer", float: "number", str: "string"}.get(tp, str(tp))


def section_help(name: str, cls: type) -> str:
    """The ``[name]`` block of ``--help``: every key with its type, default and help."""
    hints = typing.get_type_hints(cls)
    helps = field_help(cls)
    lines = [f"  [{name}]"]
    for f in dataclasses.fields(cls):
        lines.append(f"    {f.name} = {_default_text(f)}    ({type_name(hints[f.name])})")
        if f.name in helps:
            lines += textwrap.wrap(helps[f.name], width=88, initial_indent=" " * 8, subsequent_indent=" " * 8)
    return "\n".join(lines)


def _default_text(f: dataclasses.Field) -> str:
    if f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        return to_toml(f.default_factory())  # type: ignore[misc]
    return to_toml(f.default)


def to_toml(value: Any) -> str:
    """A value written as in a TOML file (``none`` for None, which TOML lacks)."""
    if value is None:
        return NONE_WORD
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {to_toml(v)}" for k, v in value.items()) + "}"
    return repr(value)


# ---- values ------------------------------------------------------------------------------


def _is_optional(tp: Any) -> bool:
    return typing.get_origin(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp)


def _without_none(tp: Any) -> Any:
    (inner,) = [a for a in typing.get_args(tp) if a is not type(None)]
    return inner


def _is_text(tp: Any) -> bool:
    if _is_optional(tp):
        return _is_text(_without_none(tp))
    if typing.get_origin(tp) is Literal:
        return all(isinstance(a, str) for a in typing.get_args(tp))
    return tp is str


def coerce(value: Any, tp: Any, where: str) -> Any:
    """``value`` checked against ``tp`` (ints widen to floats, lists become tuples)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if _is_optional(tp):
        return None if value is None else coerce(value, _without_none(tp), where)
    if origin is Literal:
        if value in args:
            return value
    elif origin is tuple:
        return _coerce_tuple(value, tp, where)
    elif origin is dict:
        if isinstance(value, dict):
            return dict(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif isinstance(value, tp):
        return value
    raise TrainError(f"{where} must be {type_name(tp)}, got {to_toml(value)}")


def _coerce_tuple(value: Any, tp: Any, where: str) -> tuple:
    args = typing.get_args(tp)
    repeated = len(args) == 2 and args[1] is Ellipsis
    if not isinstance(value, (list, tuple)) or (not repeated and len(value) != len(args)):
        raise TrainError(f"{where} must be {type_name(tp)}, got {to_toml(value)}")
    item_types = [args[0]] * len(value) if repeated else list(args)
    return tuple(coerce(v, t, f"{where}[{i}]") for i, (v, t) in enumerate(zip(value, item_types)))


def parse_text(text: str, tp: Any) -> Any:
    """A command-line value: TOML syntax (``3``, ``2e-4``, ``true``, ``[128, 128]``), with
    bare words accepted for strings and ``none`` for optional settings."""
    if _is_optional(tp) and text.strip().lower() == NONE_WORD:
        return None
    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text
    if _is_text(tp) and not isinstance(value, str):
        return text  # e.g. a run directory called 2024
    return value


# ---- sections ----------------------------------------------------------------------------


def build_section(cls: type, values: Mapping[str, Any], where: str) -> Any:
    """An instance of section ``cls`` from plain values; unknown keys are an error."""
    if not isinstance(values, Mapping):
        raise TrainError(f"[{where}] must be a table of settings, got {to_toml(values)}")
    hints = typing.get_type_hints(cls)
    check_key(cls, where, *values)
    return cls(**{key: coerce(value, hints[key], f"{where}.{key}") for key, value in values.items()})


def check_key(cls: type, where: str, *keys: str) -> None:
    """Raise a TrainError naming the valid keys unless every key is a field of ``cls``."""
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = [key for key in keys if key not in names]
    if unknown:
        raise TrainError(f"unknown setting {where}.{unknown[0]}; the keys of [{where}] are: {', '.join(names)}")


def field_type(cls: type, key: str) -> Any:
    return typing.get_type_hints(cls)[key]


def section_dict(section: Any) -> dict[str, Any]:
    """Plain JSON/TOML-ready values of a section (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(section).items()}
