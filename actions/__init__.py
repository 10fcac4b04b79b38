"""The rasa-sdk action server: ``rasa run actions --actions actions``.

rasa-sdk imports every module of this package and registers the ``Action``
subclasses it finds; each module holds the actions of one feature (e.g. ``residence``:
``action_residence``; ``notices``: ``action_notice_subscription``).
"""
