"""SMS follow-ups to care homes: which texts a navigation gets and when (`due`, from the plan in
`plan`), an outbox of messages (`outbox`) sent through an SMS provider (`clients`, Twilio) by a
separate process (`worker`, run as `navigator scheduler`), delivery receipts and replies
through signed webhooks, and call-back tasks for the navigators' worklist."""
