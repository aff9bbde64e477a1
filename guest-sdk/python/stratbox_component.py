"""The module componentize-py wraps into a stratbox component: it imports
the strategy module ``strategy`` (``strategy.py`` of the strategy
directory) and exports its :class:`stratbox.Strategy` subclass."""

import sys

# Building imports the strategy from its own directory: leave no bytecode
# caches behind in it.
sys.dont_write_bytecode = True

from stratbox._export import exports_for  # noqa: E402

Strategy = exports_for("strategy")
