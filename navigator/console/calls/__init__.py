"""The call pages, one module per page: a call goes from the new-call form to the call page,
is decided (accepted or overridden, and handed over), and is found again in the calls list.

- `new_call`: `/calls/new` (console.new_call) and the patient lookup `/calls/new/find`
  (console.find_patient);
- `call_page`: `/calls/<navigation_id>` (console.call), and the `left_out_details` template
  global;
- `decision`: `POST /calls/<navigation_id>/decision` (console.decide_call);
- `call_list`: `/calls` (console.calls);
- `shared`: what more than one of them needs (`PATIENT_FIELDS`, `service_name`, the
  `named_red_flags` template global).

Importing this package adds all their routes and template globals to the console blueprint.
"""

from navigator.console.calls import call_list, call_page, decision, new_call, shared

__all__ = ["call_list", "call_page", "decision", "new_call", "shared"]
