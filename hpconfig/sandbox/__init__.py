"""The hpconfig sandbox: a local, faithful Hyperproof API for demos, tests and dry runs.

``state`` holds the organization (``tokens`` its bearer tokens, ``freshness`` the live freshness
state against the sandbox's clock), ``rules`` what a write must pass,
``store`` the ``--state`` file and its journal, ``faults`` the misbehaviour asked for, ``seeds`` the
organizations. The HTTP side: ``server`` (the socket, the worker pool, what connections share),
``wire`` (request framing, limits and deadlines), ``handler`` (one connection: dispatch and faults
on the wire), ``api``, ``oauth`` and ``admin`` (the routes), ``requestlog`` (the bounded log);
``runner`` runs it in a thread with admin helpers.
"""

from hpconfig.sandbox.runner import Sandbox
from hpconfig.sandbox.seeds import generate_org, load_seed

__all__ = ["Sandbox", "generate_org", "load_seed"]
