"""The one rule for "is this a loopback address": plain http, the sandbox's admin path and its
bind warning all depend on it."""

from __future__ import annotations

import ipaddress


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8, ``::1`` (bracketed or with a zone) and an
    IPv4-mapped loopback; False for anything else, names included."""
    if host == "localhost":
        return True
    literal = host.strip("[]")
    if "%" in literal:
        # A zone id (``fe80::1%eth0``) belongs to IPv6 literals only. ``127.0.0.1%2eevil.com``
        # is a name that requests decodes and looks up in DNS: never loopback.
        if ":" not in literal:
            return False
        literal = literal.split("%")[0]
    try:
        address = ipaddress.ip_address(literal)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))
