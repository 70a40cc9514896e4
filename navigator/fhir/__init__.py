"""FHIR interfaces for NHS 111 and other systems (issue 16): the BaRS `$process-message`
receiver, `ServiceRequest` read, the CapabilityStatement, and the `HealthcareService` /
`Organization` directory search, all under `/fhir/` and all read and written with
`fhir.resources` (R4B)."""
