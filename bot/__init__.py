"""Linli (邻里): a self-hosted resident-service assistant built on Rasa.

Sub-packages, one concern each:

- ``bot.nlu``      Rasa NLU components and text helpers (language, entity patterns).
- ``bot.tickets``  the repair/complaint ticket store (SQLAlchemy).
- ``bot.provision`` builds the offline pretrained model folders under ``models/``.
"""

from pathlib import Path

#: Repository root; relative paths in settings are resolved against it.
ROOT = Path(__file__).resolve().parent.parent
