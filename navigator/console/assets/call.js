// The new-call form, faster under time pressure (issue 17 §2). Served from navigator's own
// origin (the console's CSP allows no inline script). Without JavaScript the form works as
// before: a ticked red flag is recorded as a 999 call by the form's own button.
//
// - Ticking a red flag shows "Call 999 now" and the "Record the 999 call" button inside the
//   red-flag box, where the navigator's eyes are; untick them all and it goes again.
// - Choosing a care home fills in an empty postcode with the home's, and an unanswered
//   "Who is calling" with "Care home staff".
// - Finding the patient by NHS number sends what is already on the call form with it, so
//   nothing entered (a ticked red flag above all) is lost when the page comes back filled in.

const form = document.getElementById("new-call-form");

function showRedFlagNow() {
  const box = document.getElementById("red-flag-now");
  if (!form || !box) return;
  const ticked = form.querySelectorAll("input[name=red_flags]:checked").length > 0;
  const wasHidden = box.hidden;
  box.hidden = !ticked;
  if (ticked && wasHidden) {
    box.scrollIntoView({ block: "nearest" });
  }
}

function careHomeChosen(event) {
  const typed = event.target.value.trim();
  const list = document.getElementById(event.target.getAttribute("list"));
  if (!list) return;
  const choice = Array.from(list.options).find((option) => option.value === typed);
  if (!choice) return;
  const postcode = form.querySelector("input[name=postcode]");
  if (postcode && !postcode.value.trim() && choice.dataset.postcode) {
    postcode.value = choice.dataset.postcode;
  }
  const role = form.querySelector("select[name=caller_role]");
  if (role && !role.value) {
    role.value = "care_home";
  }
}

function carryCallForm(event) {
  const find = event.target;
  find.querySelectorAll("input[data-carried]").forEach((input) => input.remove());
  for (const [name, value] of new FormData(form)) {
    if (name === "csrf_token" || name === "nhs_number" || typeof value !== "string") continue;
    const carried = document.createElement("input");
    carried.type = "hidden";
    carried.name = name;
    carried.value = value;
    carried.dataset.carried = "";
    find.appendChild(carried);
  }
}

if (form) {
  const find = document.getElementById("find-patient-form");
  if (find) {
    find.addEventListener("submit", carryCallForm);
  }
  form.querySelectorAll("input[name=red_flags]").forEach((box) => {
    box.addEventListener("change", showRedFlagNow);
  });
  const careHome = form.querySelector("input[name=care_home_service_id]");
  if (careHome) {
    careHome.addEventListener("change", careHomeChosen);
  }
  showRedFlagNow(); // a form shown again with flags ticked
}
