"""Linli's messaging channels, each a Rasa ``InputChannel`` mounted from
``credentials.yml`` at ``/webhooks/<name>/``:

- :mod:`bot.channels.wechat`: WeChat Official Account (``wechat``)
- :mod:`bot.channels.telegram`: Telegram bot (``telegram``)
- :mod:`bot.channels.webchat`: proactive sender for Rasa's ``socketio`` channel (web widget)

Each channel registers a sender with :mod:`bot.outbound` when it is created, so
late answers, notifications and agent messages reach residents without the
caller knowing the channel. Shared state (dedupe records, API tokens, pending
photos) lives in :mod:`bot.channels.state`.
"""
