"""SMS follow-ups to care homes: an outbox of messages sent through Twilio by a separate
scheduler process, delivery receipts and replies through signed webhooks, and call-back
tasks for the navigators' worklist."""
