"""Offline provisioning of pretrained models (``python -m bot.provision``).

Paths used by the rest of the code live in :mod:`bot.provision.paths`.
"""
