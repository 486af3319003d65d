"""group_vars and host_vars exactly as ansible.builtin.host_group_vars loads them, with the file,
line and column in the message when one of them is not valid YAML.

Why: ansible-core 2.21's host_group_vars re-raises a YAML error as
``AnsibleParserError(to_native(e))``, which keeps the text ("did not find expected ',' or ']'")
and drops where it was, so a broken group_vars file gave no file name at all. The origin is still
on the original error (``obj``, an Origin with ``path``, ``line_num`` and ``col_num``); this
plugin puts it back in the message. It also applies netfence's input bounds to every file first
(:func:`netfence.loading.check_yaml_file`). ansible.cfg enables it in place of host_group_vars.
"""

from __future__ import annotations

import os
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.vars.host_group_vars import VarsModule as HostGroupVars

try:
    from netfence.errors import NetfenceError
    from netfence.loading import check_yaml_file
except ImportError as exc:  # pragma: no cover - environment problem
    raise AnsibleParserError("netfence_group_vars needs the netfence package in the Python that runs "
                             f"ansible-playbook ({exc}); run `make setup` and use .venv/bin/ansible-playbook") from None

DOCUMENTATION = """
    name: netfence_group_vars
    short_description: Loads group_vars and host_vars; a YAML error names its file, line and column
    requirements:
        - Enabled in configuration (netfence's ansible.cfg enables it instead of host_group_vars)
    description:
        - Loads YAML vars from group_vars/ and host_vars/ beside the inventory, as ansible.builtin.host_group_vars does.
        - A file that is not valid YAML fails with its path, line and column.
    options:
      stage:
        ini:
          - key: stage
            section: vars_netfence_group_vars
        env:
          - name: ANSIBLE_VARS_PLUGIN_STAGE
      _valid_extensions:
        default: [".yml", ".yaml", ".json"]
        description:
          - Extensions of variable files (as for host_group_vars).
        env:
          - name: ANSIBLE_YAML_FILENAME_EXT
        ini:
          - key: yaml_valid_extensions
            section: defaults
        type: list
        elements: string
    extends_documentation_fragment:
      - vars_plugin_staging
"""


_CHECKED: dict[str, tuple[int, int]] = {}


def _stamp(path: str) -> tuple[int, int]:
    try:
        info = os.stat(path)
    except OSError:
        return (-1, -1)  # the check reports it
    return (info.st_mtime_ns, info.st_size)


def _vault_file(path: str) -> bool:
    """A whole-file Ansible Vault (its header line, then hex): Ansible decrypts it, nothing to check."""
    try:
        with open(path, "rb") as handle:
            return handle.read(14) == b"$ANSIBLE_VAULT"
    except OSError:
        return False  # the check reports it


def origin_text(exc: BaseException) -> str | None:
    """``path:line:column`` of the YAML error behind ``exc`` (itself or what it was raised from)."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        origin = getattr(current, "obj", None)
        path = getattr(origin, "path", None)
        if path:
            line, column = getattr(origin, "line_num", None), getattr(origin, "col_num", None)
            return ":".join(str(part) for part in (path, line, column) if part is not None)
        current, seen = current.__cause__ or current.__context__, seen + 1
    return None


class VarsModule(HostGroupVars):
    """host_group_vars, with the place of a YAML error in its message, and netfence's input bounds."""

    def load_found_files(self, loader: Any, data: Any, found_files: list[str]) -> Any:
        # Ansible's loader shares aliased values, but passing them to a module serialises every
        # copy: a 1 kB alias bomb in group_vars grew ansible-playbook past 11 GB. netfence's bounds
        # (size, UTF-8, depth, alias expansion; docs/inventory.md) refuse such a file first.
        for found in found_files:
            stamp = _stamp(found)
            if _CHECKED.get(found) == stamp:
                continue  # Ansible asks again for every task: each file version is checked once
            if not _vault_file(found):
                try:
                    check_yaml_file(found, "inventory file")
                except NetfenceError as exc:
                    raise AnsibleParserError(str(exc)) from None
            _CHECKED[found] = stamp
        return super().load_found_files(loader, data, found_files)

    def get_vars(self, loader: Any, path: str, entities: Any, cache: bool = True) -> dict[str, Any]:
        try:
            return super().get_vars(loader, path, entities, cache)
        except AnsibleParserError as exc:
            where = origin_text(exc)
            if where is None or where in str(exc):
                raise
            raise AnsibleParserError(f"{where}: {exc.message} (fix: check the indentation, quoting and brackets there; "
                                     "`netfence validate -i <inventory>` reports the same)") from None
