"""Patients: NHS number checks and (later) the minimal patient record."""
