"""Incidents and early warning (预警).

Staff declare an incident — a water or power cut, a lift out of service, gas, the network —
for some buildings or the whole community. While it lasts, residents of those buildings who
ask about it, or start a repair report of the same kind, are told about it and its expected
end; a report of the same problem is linked to it instead of becoming another ticket. When it
is resolved, everyone linked is told on their own channel. Clusters of tickets (same category
and building within a window) raise an early-warning alert on the desk that proposes one.

- :mod:`bot.incidents.models`: tables, kinds and the repair categories each kind explains;
- :mod:`bot.incidents.store`: declare, edit, resolve, match, link;
- :mod:`bot.incidents.matching`: what a message is about (outage words, buildings, questions);
- :mod:`bot.incidents.texts`: what residents read (domain.yml responses);
- :mod:`bot.incidents.notify`: resolution messages through the outbox;
- :mod:`bot.incidents.alerts`: early-warning clusters, one alert each, cluster-safe;
- :mod:`bot.incidents.rising`: the dashboard's categories and buildings rising today;
- :mod:`bot.incidents.service`: the server's loop (clusters, resolution messages left out).
"""
