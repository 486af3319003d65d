"""Subcommands of the ``netfence`` CLI, one module each (see :mod:`netfence.cli`)."""
