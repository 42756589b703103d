"""The remote wing: settings → live controls, over HTTP; never YAML.

``settings`` resolves where to connect and with what (flags, environment, the project config's
values; ``hpconfig.urls`` says where credentials may go), ``secret`` keeps the client secret
out of sight, ``auth`` signs in, ``client`` sends requests (with ``retrying``, ``watchdog`` and
``answers``: bounded reads and the server's words, redacted), ``live_check`` and ``live`` turn
the untrusted answers into live controls, ``fetch`` asks for what a plan needs, and
``organization`` for what a check needs (with the records its rules see).
"""
