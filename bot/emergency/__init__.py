"""Emergencies: recognising a hazard in a resident's message, and what to tell them.

The playbook (``playbook.yml`` beside this file, or ``LINLI_EMERGENCY_PLAYBOOK``) is
data a property company edits: hazards, how residents describe them, advice and
numbers in both languages. :func:`detect_hazards` is used by the NLU component
:class:`bot.nlu.emergency_detector.EmergencyDetector` and by ``action_emergency``.
"""

from bot.emergency.playbook import Hazard, HazardMatch, Playbook, detect_hazards, load_playbook

__all__ = ["Hazard", "HazardMatch", "Playbook", "detect_hazards", "load_playbook"]
