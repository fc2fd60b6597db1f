"""Reading a survey spec's YAML file safely: UTF-8 text, no aliases, no duplicate keys,
errors that name the file and the line.

:func:`read_spec_file` returns the parsed YAML; :func:`adoption.spec.load_spec` validates it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from adoption.errors import InputError


def _yaml_error(path: Path, exc: yaml.YAMLError) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return InputError(f"{path}{where}: YAML error: {problem}. Fix the spec file's syntax.")


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses YAML aliases and duplicate keys: specs never need aliases,
    nested aliases can expand exponentially (a "billion laughs" spec), and a duplicate
    key would silently drop the first of its two values."""

    def compose_node(self, parent, index):  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in a survey spec",
                event.start_mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node, deep=False):  # type: ignore[override]
        # PyYAML keeps the last of two equal keys; a second `missing:` block would then
        # silently replace the first. Refuse it, naming both lines.
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.YAMLError):
                continue  # unhashable keys are refused by the base class
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}' (first given on line {seen[key]}); "
                    "give each key once", key_node.start_mark)
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def read_spec_file(path: str | Path) -> tuple[Path, Any]:
    """The file read for ``path`` (a YAML file, or a folder holding ``survey.yaml``) and
    what its YAML holds (a mapping for a well-formed spec), not yet validated.

    Raises InputError on a missing file, one that is not a regular file or not UTF-8
    text, and on a YAML syntax error (with its line), an alias or a duplicate key.
    """
    p = Path(path)
    if p.is_dir():
        p = p / "survey.yaml"
    if not p.exists():
        raise InputError(f"{p}: spec file not found. Give the path of a survey YAML file.")
    if not p.is_file():  # after symbolic links: reading a pipe or device would never end
        raise InputError(f"{p}: is not a regular file. Give the path of a survey YAML file.")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{p}: cannot read the spec ({exc.__class__.__name__}). "
                         "Save it as UTF-8 text.") from None
    try:
        return p, yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise _yaml_error(p, exc) from None
