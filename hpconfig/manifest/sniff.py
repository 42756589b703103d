"""Whether the first bytes of a YAML file look like a manifest: a guess for directory walks.

Pure. A manifest has `controls` or `defaults` at the top level (block or flow style, keys plain
or quoted), or names the manifest schema in its YAML language-server modeline. Other YAML that a
repository holds (CI workflows, tool configs, Kubernetes objects...) is evidently something else,
so ``validate`` of a directory leaves it out instead of reporting it as a broken manifest. It must
not parse YAML: the loader does that, with its safety limits, for the files kept.
"""

from __future__ import annotations

import re

_MANIFEST_KEY = re.compile(rb"^(?:\{\s*)?[\"']?(?:controls|defaults)[\"']?\s*:", re.MULTILINE)
_MANIFEST_MODELINE = re.compile(
    rb"^#\s*yaml-language-server:\s*\$schema=\S*manifest\.schema\.json", re.MULTILINE
)


def looks_like_manifest(head: bytes) -> bool:
    head = head.removeprefix(b"\xef\xbb\xbf")
    return bool(_MANIFEST_KEY.search(head) or _MANIFEST_MODELINE.search(head))
