"""Transitions of care (A&E, admissions, discharges, care-home call-outs …) and DTOC episodes."""
