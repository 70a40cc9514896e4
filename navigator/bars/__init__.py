"""BaRS (Booking and Referral Standard) messaging state: the messages received (one per
`X-Request-Id`), what navigator keeps of each BaRS sender for a referral, and the outbox of
`servicerequest-response` messages going back to senders. The FHIR resources and the
`/fhir/` endpoints live in `navigator.fhir`, above the referrals and navigations they make."""
