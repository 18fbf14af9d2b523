"""Typed, self-describing settings: each field is declared once with its default, help text and range.

A settings class is a frozen dataclass whose fields are declared with `setting(...)`. The same
declaration drives validation (on construction), `--set KEY=VALUE` and the CLI's options, the
`--json` descriptions and the GUI's generated forms. Task settings, input settings and the
others all use it, so no front end declares a setting again.
"""
from __future__ import annotations

import dataclasses
import functools
import math
import types
from collections.abc import Mapping
from typing import Any, get_args, get_origin, get_type_hints

from sslstudio.core.errors import ArgsError


def setting(default: Any, help: str, *, min: float | None = None, max: float | None = None,
            choices: tuple | None = None, none_means: str | None = None, label: str | None = None,
            choice_names: dict | None = None) -> Any:
    """A field declared once. An optional field (`int | None`) says in `none_means` what leaving it
    empty does ("until the time budget"); a `tuple[int, ...]` field holds several values; `label`
    names it in a form where its name would not read well, and `choice_names` its choices ("t-SNE" for tsne)."""
    return dataclasses.field(default=default, metadata={
        "help": help, "min": min, "max": max, "choices": choices, "none_means": none_means, "label": label,
        "choice_names": choice_names})


@dataclasses.dataclass(frozen=True)
class Kind:
    """What a field's type hint means to a front end: the scalar type, whether None is allowed, whether
    it holds several values."""

    scalar: type
    optional: bool = False
    many: bool = False

    @classmethod
    def of(cls, hint: Any) -> Kind:
        optional = False
        if isinstance(hint, types.UnionType) or get_origin(hint) is not None and type(None) in get_args(hint):
            members = [a for a in get_args(hint) if a is not type(None)]
            optional, hint = True, members[0]
        if get_origin(hint) is tuple:
            return cls(get_args(hint)[0], optional, True)
        return cls(hint, optional)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base for a group of settings; subclasses add fields with `setting()`."""

    def __post_init__(self) -> None:
        kinds = self.kinds()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None and not kinds[field.name].optional:
                raise ArgsError(f"setting {field.name!r} needs a value")
            _check_range(field, value)
        self.check()

    def check(self) -> None:
        """Rules between fields (a minimum not above its maximum); a group overrides it and raises ArgsError."""

    @classmethod
    def schema(cls) -> list[dict]:
        """Each field as the front ends read it: name, type, default, help, and range, choices,
        `optional` and `many` where they apply."""
        kinds = cls.kinds()
        out = []
        for f in dataclasses.fields(cls):
            kind = kinds[f.name]
            default = list(f.default) if kind.many else f.default
            out.append({"name": f.name, "type": kind.scalar.__name__, "default": default,
                        **({"optional": True} if kind.optional else {}), **({"many": True} if kind.many else {}),
                        **{k: v for k, v in f.metadata.items() if v is not None}})
        return out

    @classmethod
    def kinds(cls) -> dict[str, Kind]:
        return _kinds(cls)

    @classmethod
    def coerce(cls, name: str, value: Any) -> Any:
        """One user value (text from the CLI or a typed value) as the field's type, range-checked."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        if name not in fields:
            raise ArgsError(f"unknown setting {name!r}")
        coerced = _coerce(name, value, cls.kinds()[name])
        _check_range(fields[name], coerced)
        return coerced

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]):
        """Build from user values (strings from the CLI or typed values); unknown names fail."""
        kinds = cls.kinds()
        unknown = sorted(set(values) - set(kinds))
        if unknown:
            valid = ", ".join(kinds) or "none"
            raise ArgsError(f"unknown setting {unknown[0]!r}; valid settings: {valid}")
        return cls(**{k: _coerce(k, v, kinds[k]) for k, v in values.items()})

    @classmethod
    def valid_part(cls, values: Mapping[str, Any]) -> tuple[dict, list[str]]:
        """The values that are valid settings (coerced), and a problem for each one that is not: what a
        front end keeps of saved values, saying what it dropped."""
        good, problems = {}, []
        for name, value in values.items():
            try:
                coerced = cls.coerce(name, value)
            except (ArgsError, TypeError) as exc:
                problems.append(str(exc))
                continue
            good[name] = coerced
        return good, problems

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@functools.cache
def _kinds(cls: type) -> dict[str, Kind]:
    hints = get_type_hints(cls)
    return {f.name: Kind.of(hints[f.name]) for f in dataclasses.fields(cls)}


def _coerce(name: str, value: Any, kind: Kind) -> Any:
    if kind.optional and (value is None or str(value).strip().lower() in ("", "none")):
        return None
    if kind.many:
        items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
        if not items:
            raise ArgsError(f"setting {name!r} needs at least one value")
        return tuple(_coerce_one(name, item, kind.scalar) for item in items)
    return _coerce_one(name, value, kind.scalar)


def _coerce_one(name: str, value: Any, kind: type) -> Any:
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    text = str(value).strip()
    try:
        if kind is bool:
            if text.lower() in ("1", "true", "yes", "on"):
                return True
            if text.lower() in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if kind is int and isinstance(value, float) and value.is_integer():
            return int(value)
        return kind(text)
    except ValueError:
        raise ArgsError(f"setting {name!r} must be {kind.__name__}, got {text!r}") from None


def _check_range(field: dataclasses.Field, value: Any) -> None:
    if value is None:  # an optional field left empty (a required one fails on its type first)
        return
    for one in value if isinstance(value, tuple) else (value,):
        meta = field.metadata
        low, high, choices = meta.get("min"), meta.get("max"), meta.get("choices")
        if choices is not None and one not in choices:
            raise ArgsError(f"setting {field.name!r} must be one of {', '.join(map(str, choices))}; got {one!r}")
        # Every comparison with NaN is false: a range check alone lets NaN through.
        not_finite = isinstance(one, float) and not math.isfinite(one)
        if not_finite or (low is not None and one < low) or (high is not None and one > high):
            bounds = f"in [{low}, {high}]" if low is not None and high is not None else \
                f"at least {low}" if low is not None else f"at most {high}" if high is not None else "a finite number"
            raise ArgsError(f"setting {field.name!r} must be {bounds}; got {one!r}")


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """['mask_prob=0.2', ...] -> {'mask_prob': '0.2'}."""
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ArgsError(f"--set expects KEY=VALUE, got {pair!r}")
        values[key.strip()] = value
    return values
