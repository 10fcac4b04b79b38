"""Rasa's event broker, consumed inside Linli's server processes.

Rasa publishes every new tracker event (a resident's message, an action, a pause…) to the
event broker configured in the endpoints file. Linli consumes that stream instead of
hooking into Rasa's processor:

* :mod:`bot.broker.inprocess`: the embedded default (``make run``): an in-process broker
  whose events go straight to the consumers of the same process.
* Production (``deploy/endpoints.cluster.yml``): Rasa's own Pika broker on RabbitMQ; every
  replica consumes the shared queue, so each event is handled once by one of them
  (:mod:`bot.broker.consumer`).

The consumers (:mod:`bot.handoff.relay`) relay resident messages to the staff desk and count
what the metrics show.
"""
