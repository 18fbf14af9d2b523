"""Typed, self-describing settings: each field is declared once with its default, help text and range.

A settings class is a frozen dataclass whose fields are declared with `setting(...)`. The same
declaration drives validation (on construction), `--set KEY=VALUE` and the CLI's options, the
`--json` descriptions and the GUI's generated forms. Task settings, input settings and the
others all use it, so no front end declares a setting again.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, get_type_hints

from sslstudio.core.errors import ArgsError


def setting(default: Any, help: str, *, min: float | None = None, max: float | None = None,
            choices: tuple | None = None) -> Any:
    return dataclasses.field(default=default, metadata={
        "help": help, "min": min, "max": max, "choices": choices})


@dataclasses.dataclass(frozen=True)
class Settings:
    """Base for a group of settings; subclasses add fields with `setting()`."""

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            _check_range(field, getattr(self, field.name))

    @classmethod
    def schema(cls) -> list[dict]:
        hints = get_type_hints(cls)
        return [{"name": f.name, "type": hints[f.name].__name__, "default": f.default,
                 **{k: v for k, v in f.metadata.items() if v is not None}}
                for f in dataclasses.fields(cls)]

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]):
        """Build from user values (strings from the CLI or typed values); unknown names fail."""
        hints = get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(values) - set(names))
        if unknown:
            valid = ", ".join(names) or "none"
            raise ArgsError(f"unknown setting {unknown[0]!r}; valid settings: {valid}")
        return cls(**{k: _coerce(k, v, hints[k]) for k, v in values.items()})

    @classmethod
    def valid_part(cls, values: Mapping[str, Any]) -> tuple[dict, list[str]]:
        """The values that are valid settings (coerced), and a problem for each one that is not: what a
        front end keeps of saved values, saying what it dropped."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        hints = get_type_hints(cls)
        good, problems = {}, []
        for name, value in values.items():
            try:
                if name not in fields:
                    raise ArgsError(f"unknown setting {name!r}")
                coerced = _coerce(name, value, hints[name])
                _check_range(fields[name], coerced)
            except (ArgsError, TypeError) as exc:
                problems.append(str(exc))
                continue
            good[name] = coerced
        return good, problems

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _coerce(name: str, value: Any, kind: type) -> Any:
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
    meta = field.metadata
    low, high, choices = meta.get("min"), meta.get("max"), meta.get("choices")
    if choices is not None and value not in choices:
        raise ArgsError(f"setting {field.name!r} must be one of {', '.join(map(str, choices))}; got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ArgsError(f"setting {field.name!r} must be in [{low}, {high}]; got {value!r}")


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """['mask_prob=0.2', ...] -> {'mask_prob': '0.2'}."""
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ArgsError(f"--set expects KEY=VALUE, got {pair!r}")
        values[key.strip()] = value
    return values
