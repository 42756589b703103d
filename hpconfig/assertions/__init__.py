"""Compliance assertions (``hpconfig check``): rules → results over live controls.

``rules`` holds the rule, waiver and template values, ``cel`` the bounded CEL expressions,
``builtins`` the built-in assertions, ``evaluate`` the results, ``report`` the report and its
baseline. Pure: rule files are read by ``manifest.assertions_file``, controls fetched by
``remote.organization``; nothing here parses YAML, talks HTTP or prints.
"""
