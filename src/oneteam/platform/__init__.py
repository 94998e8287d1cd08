"""The Django project of the OneTeam platform: settings, URLs, API root, dashboard, `oneteam up`.

Modules that other apps may import: ``errors``, ``dashboard`` (to register panels),
``tasks`` (the ``task`` decorator), ``sealing`` (secrets at rest), ``http`` (client
address), ``demo`` (the demo-data hook). ``urls`` and ``api`` sit on top of every app.
"""
