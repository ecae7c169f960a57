"""Griffe extension: docstring touch-ups for rendering (nothing in ``src/`` is changed).

1. Sphinx cross-reference roles become mkdocstrings links.

The package's numpydoc docstrings use Sphinx roles (``:func:`~dltheory.nets.ntk.make_mlp```,
``:class:`Activation```). Markdown has no such syntax, so each role is rewritten into an *optional*
autorefs link: a link to the object's API entry when the object is documented on this site, plain
code otherwise (optional references never fail the strict build). Unqualified names are resolved
from the docstring's own module and class; a re-exported name links to where it is defined.

2. Prose inside a numpydoc Parameters, Other Parameters or Attributes section (a paragraph at the
section's own indentation that is not a ``name : type`` line) would be parsed as a parameter called
by its first word, and warn in strict mode. It is moved into a ``Notes`` section instead, and the
object is logged (INFO) so that the docstring can be fixed at its source.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import griffe

log = logging.getLogger("mkdocs.plugins.dltheory.griffe_roles")

_ROLE = re.compile(r":(?:py:)?(?:func|class|mod|meth|attr|data|exc|obj|const):`(?P<tilde>~?)(?P<target>[^`<>]+?)`")


_BY_NAME: dict[str, list[str]] = {}


def _index(collection: Any) -> dict[str, list[str]]:
    """Last name -> canonical paths of every non-alias object under ``dltheory`` (built once)."""
    if not _BY_NAME:
        def walk(obj: Any) -> None:
            for member in obj.members.values():
                if getattr(member, "is_alias", False):
                    continue
                _BY_NAME.setdefault(member.name, []).append(member.path)
                if member.is_module or member.is_class:
                    walk(member)
        try:
            walk(collection["dltheory"])
        except Exception as exc:  # noqa: BLE001 - no index: names stay unlinked
            log.debug("no name index for cross-references: %s", exc)
    return _BY_NAME


def _lookup(obj: Any, path: str) -> str | None:
    """Canonical path of ``path`` seen from ``obj`` (None when it cannot be found).

    Tried in order: the path itself when fully qualified, the path relative to each enclosing scope,
    then a unique public object of that name anywhere in the package.
    """
    candidates = []
    if "." in path and path.split(".")[0] == "dltheory":
        candidates.append(path)
    scope = obj
    while scope is not None:
        candidates.append(f"{scope.path}.{path}")
        scope = scope.parent
    for candidate in candidates:
        try:
            found = obj.modules_collection[candidate]
        except Exception:  # noqa: BLE001, S112 - not found, or an alias that cannot be resolved
            continue
        try:
            return found.target_path if getattr(found, "is_alias", False) else found.path
        except Exception:  # noqa: BLE001
            return candidate
    matches = [p for p in _index(obj.modules_collection).get(path.split(".")[-1], [])
               if p.endswith("." + path) and not any(part.startswith("_") for part in p.split("."))]
    return matches[0] if len(matches) == 1 else None


_PARAM_SECTIONS = {"parameters", "other parameters", "attributes"}
_PARAM_LINE = re.compile(r"^\*{0,2}[A-Za-z_][\w.]*(\s*,\s*\*{0,2}[A-Za-z_][\w.]*)*\s*(:.*)?$")


def _prose_to_notes(text: str) -> tuple[str, bool]:
    """Move prose paragraphs out of parameter-like sections into a Notes section."""
    lines = text.splitlines()
    out: list[str] = []
    moved: list[str] = []
    section = None
    i = 0
    while i < len(lines):
        line = lines[i]
        underline = i + 1 < len(lines) and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1] or "")
        if underline and line.strip():
            section = line.strip().lower()
            out += [line, lines[i + 1]]
            i += 2
            continue
        if (section in _PARAM_SECTIONS and line.strip() and not line.startswith((" ", "\t"))
                and not _PARAM_LINE.match(line.strip()) and (i == 0 or not lines[i - 1].strip())):
            # a prose paragraph: take it and any following lines up to the next blank line
            while i < len(lines) and lines[i].strip():
                moved.append(lines[i])
                i += 1
            moved.append("")
            continue
        out.append(line)
        i += 1
    if not moved:
        return text, False
    while out and not out[-1].strip():
        out.pop()
    return "\n".join(out + ["", "Notes", "-----", *moved]).rstrip() + "\n", True


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx roles and misplaced prose in every docstring once the object tree is complete."""

    def on_object(self, *, obj: Any, **kwargs: Any) -> None:
        docstring = getattr(obj, "docstring", None)
        if docstring is None:
            return
        fixed, changed = _prose_to_notes(docstring.value)
        if changed:
            log.info("docstring of %s: prose inside a parameter section shown as Notes (fix it in the source)",
                     obj.path)
            docstring.value = fixed
        if ":`" not in docstring.value:
            return

        def replace(match: re.Match[str]) -> str:
            target = match["target"].strip().rstrip("()")
            shown = target.split(".")[-1] if match["tilde"] else target
            identifier = _lookup(obj, target) or target
            return (f'<autoref identifier="{html.escape(identifier)}" optional>'
                    f"<code>{html.escape(shown)}</code></autoref>")

        docstring.value = _ROLE.sub(replace, docstring.value)
