"""The hpconfig sandbox: a local, faithful Hyperproof API for demos, tests and dry runs.

``state`` holds the organization, ``rules`` what a write must pass, ``faults`` the misbehaviour
asked for, ``server`` the HTTP side (with ``oauth`` and ``admin``), ``runner`` the thread and
admin helpers, ``seeds`` the organizations.
"""

from hpconfig.sandbox.runner import Sandbox
from hpconfig.sandbox.seeds import generate_org, load_seed

__all__ = ["Sandbox", "generate_org", "load_seed"]
