"""Repair (报修) and complaint (投诉) tickets: schema, numbering and storage."""

from bot.tickets.models import Ticket, TicketEvent, TicketAttachment
from bot.tickets.store import TicketStore, TicketNotFound, InvalidTransition

__all__ = [
    "Ticket",
    "TicketEvent",
    "TicketAttachment",
    "TicketStore",
    "TicketNotFound",
    "InvalidTransition",
]
