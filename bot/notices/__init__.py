"""Notices (物业通知): staff compose a bilingual notice, target all residents, some buildings or
some units, preview the count, and send; each resident gets it on their own channel in their
language, through the outbox.

- :mod:`bot.notices.models`: ``notices``, ``notice_deliveries``, ``notice_subscriptions``;
- :mod:`bot.notices.store`: create / read / claim notices, record deliveries, opt-outs;
- :mod:`bot.notices.targeting`: who is known, who a target includes, the preview counts;
- :mod:`bot.notices.sending`: one outbox message per resident;
- :mod:`bot.notices.report`: the delivery report.
"""
