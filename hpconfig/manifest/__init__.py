"""The manifest wing: files → desired controls and every input problem.

Reads files (manifests and ``hpconfig.yaml``), never the network. ``document`` holds positioned
values, ``composer`` and ``loader`` make them from YAML safely, ``schema`` checks them against the
packaged schemas, ``desired`` builds the desired controls (by the field table of
``hpconfig.control``), ``config_file`` reads the project config, and ``project`` runs the whole
offline pipeline that ``validate`` runs alone and ``plan`` runs before any network call.
"""
