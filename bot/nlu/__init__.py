"""Rasa NLU components and the text helpers they share with the action server."""
