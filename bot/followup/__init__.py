"""Routing of follow-up questions to the knowledge base (the policy in :mod:`bot.followup.policy`)."""
