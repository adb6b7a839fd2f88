"""The notification service's use cases, by job: recipients (who may be told), setup
(rules, templates, subscriptions, officials), planning (who hears of an event over which
channel), dispatch (sending with back-off) and deliveries (the log and the inbox). Each takes
a unit of work and plain arguments."""
