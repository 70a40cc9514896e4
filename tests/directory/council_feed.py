"""Council-scale Open Referral UK feeds in the HSDS-UK 1.0 shape, as councils publish them:
seeded, deterministic test data for the importer (issue 15), with no network.

`council_feed(services, seed, **profile)` gives a list of HSDS-UK 1.0 service objects (each
with its `organization` embedded, as `/services/{id}` answers); `paged(feed, size)` wraps it
in the HSDS-UK 1.0 paged envelope. `COUNCIL_819` and `COUNCIL_738` are the two feeds issue 15
was tried on: 819 services of which 244 had `"url": ""` or `"email": ""`, and 738 of which 79
did; every service used its own taxonomies (the LGA's ESD lists, OpenActive, a council's own)
or none.

What it imitates, and where each shape rule comes from (short names as in
`tests/data/oruk/NOTES.md`):

- **Service keys** (HSDS-UK 1.0, NOTES §1; `OpenReferralUK/human-services` `Service.java`,
  `@JsonProperty`/`@AllowedValues`): `id`, `name`, `description`, `url`, `email`, `status`
  (`active|inactive|defunct|temporarily closed`), `fees`, `accreditations`, `assured_date`,
  `deliverable_type` (`advice|assessment|counselling|equipment|financial support|information|
  permission|training`), `attending_type` (`phone|online|venue|home visit`), `attending_access`
  (`referral|appointment|membership|drop-in`), `organization`, `contacts`, `eligibilitys`,
  `regular_schedules`, `holiday_schedules`, `service_at_locations`, `service_taxonomys`,
  `languages`, `fundings`, `reviews`, `cost_options`, `service_areas`. Optional text the
  council left blank is `""` (the Java model serialises empty columns as they are stored).
- **Ids**: UUIDs, some upper case, and a few numeric strings (legacy ids of council CMSs);
  organisation ids are UUIDs too. The importer must give each a navigator slug.
- **Contacts**: `contacts[]{id,name,title,email,phones[]{id,number}}` (NOTES §1;
  `talentconsulting/talentconsulting.open-referral-client.netcore`
  `SouthamptonImporter/Service/SouthamptonSimpleService.cs` @ `91de2a59`, a client of a real
  council's HSDS-UK feed). Numbers are in Ofcom's drama ranges (01632 960xxx, 07700 900xxx),
  written as people type them; a few are malformed (too short, words).
- **Empty and malformed contact details**: `url`/`email` `""` (or whitespace) for the
  profile's exact count of services (issue 15: 244 of 819, 79 of 738); a few malformed values
  such as `email-example_com` (the ORUK validator's `V3.0-UK-Fail` mock), `www.example.org`
  without a scheme, `example/counselling` (same mock's `url`). Every domain is an RFC 2606
  example domain.
- **Descriptions**: plain, with HTML markup and entities (`&amp;`, `&#39;`), emoji, text that
  looks like a script tag, very long text (tens of kB), and empty.
- **Eligibility** (`eligibilitys[]{id,eligibility,minimum_age,maximum_age}`; `maximum_age`
  is a Java `Float` in `Eligibility.java`): 0-18, 65+, fractional ages (1.5, 2.5, 4.5), an
  entry with nothing in it, several entries, none.
- **Schedules** (`regular_schedules[]`, HS `RegularSchedule.java`: `opens_at`/`closes_at`
  serialised `HH:mm`; `freq` `WEEKLY|MONTHLY`; `interval`, `byday`, `bymonthday` strings;
  `dtstart`, `valid_from`, `valid_to`, `description`): weekdays 9-5, split sessions, `weekday`
  day names without `freq` (the first UK schema's required `weekday`, NOTES §1, and the
  Southampton client's `RegularSchedule{weekday,opens_at,closes_at}`), `MONTHLY` `1SA` and
  `-1FR`, fortnightly (`interval` "2" with `dtstart`), `00:00`-`23:59` every day (HSDS's
  24 hours, NOTES §2) as one entry or seven, entries whose every field is `""`, schedules on
  `service_at_locations[].regular_schedule` (singular key, NOTES §1) instead of the service.
  `holiday_schedules[]{id,closed,opens_at,closes_at,start_date,end_date}` (NOTES §1).
- **Locations**: `service_at_locations[]{id,location{id,name,description,latitude,longitude,
  physical_addresses[]{id,address_1,city,state_province,postal_code,country},
  accessibility_for_disabilities[]}}`; postcodes in the real BLMK postcode districts of
  `directory_of_services/places/postcode_districts.csv` (the inward code is made up, in the
  valid format), written upper, lower and without the space; latitude and longitude near the
  district's centroid, or null.
- **Taxonomies** (`service_taxonomys[]{id,taxonomy{id,name,vocabulary,parent}}`, NOTES §1 and
  §7): ESD services and needs only with the codes and labels NOTES §7 lists (no code is
  invented), in the id forms seen in real feeds (`http://id.esd.org.uk/service/242`,
  `esdServiceType:242`, `need:71`, a bare `242`), vocabularies `esdServiceTypes`, `esdNeeds`,
  `esdCircumstances`; a council's own (`bccservicetype:78` Autism and others from Bristol's
  `BCC Services` list, as found in `Jamesdvdavidson/GraphQL`
  `src/helpers/data/ServiceTaxonomiesForOlderPeople.js`, and `bccagegroup:18` Older People);
  OpenActive-like activity terms (`openActiveActivity:` CURIEs, NOTES §7; the activity slugs
  are illustrative, not codes of the OpenActive list); and none.
- **Envelope** (NOTES §3): HSDS-UK 1.0 is a Spring page, `totalElements, totalPages, number,
  size, first, last, empty, content` (singular), pages counted from 1.

Nothing here calls the importer: tests compare what it stored with these inputs. The one
helper for the tests, `warnings_by_service`, reads the load report's per-service warnings.
"""

from __future__ import annotations

import copy
import csv
import math
import random
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DISTRICTS_CSV = PROJECT_ROOT / "directory_of_services" / "places" / "postcode_districts.csv"

# ESD terms NOTES §7 names with their labels (HS gh-pages `pages/Data/UseOfTaxonomies.md`).
ESD_SERVICES = {
    "242": "Care at home",
    "298": "Carers support groups",
    "1755": "Carers assessment",
    "833": "Leaving hospital",
}
ESD_NEEDS = {"69": "Social inclusion", "71": "Community facilities"}
ESD_CIRCUMSTANCES = {"Gender_Female": "Female", "AddictSubstanceAbuser_Smoking": "Smoker"}
# Bristol City Council's own lists (see the module docstring).
COUNCIL_TERMS = {
    "bccservicetype:78": ("Autism", "BCC Services"),
    "bccservicetype:10": ("Befriending", "BCC Services"),
    "bccservicetype:154": ("Home Care", "BCC Services"),
    "bccservicetype:104": ("Isolation", "BCC Services"),
    "bccservicetype:41": ("Clubs / Classes", "BCC Services"),
    "bccagegroup:18": ("Older People", "BCC Age Groups"),
}
OPENACTIVE_ACTIVITIES = ("walking-football", "chair-based-exercise", "swimming", "yoga")

MALFORMED_EMAILS = ("email-example_com", "info at example.org", "bookings@", "@example.org")
MALFORMED_URLS = ("www.example.org", "example/counselling", "htp//example.org", "n/a")
BLANKS = ("", " ", "\t")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters a UK inward code may use

SCHEDULE_KINDS = (
    "weekdays",
    "split",
    "weekday_names",
    "monthly",
    "fortnightly",
    "all_hours",
    "all_hours_by_day",
    "blank_strings",
    "on_location",
    "none",
)


@dataclass(frozen=True)
class District:
    code: str
    place: str
    lat: float
    lng: float


def blmk_districts() -> list[District]:
    """The BLMK postcode districts (place not empty), in file order."""
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        return [
            District(row["district"], row["place"], float(row["lat"]), float(row["lng"]))
            for row in csv.DictReader(handle)
            if row["place"]
        ]


# The two councils' feeds (issue 15). `empty_contact` is an exact count of services whose
# `url` or `email` is blank; `areas` the postcode areas their venues are in.
COUNCIL_819: dict[str, Any] = {
    "services": 819,
    "seed": 819,
    "council": "Bedford-like council",
    "areas": ("MK4", "SG1", "LU5", "LU6", "LU7"),
    "empty_contact": 244,
}
COUNCIL_738: dict[str, Any] = {
    "services": 738,
    "seed": 738,
    "council": "Luton and Milton Keynes-like council",
    "areas": ("LU1", "LU2", "LU3", "LU4", "MK1", "MK2", "MK3", "MK5", "MK6", "MK7", "MK8"),
    "empty_contact": 79,
}


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _service_id(rng: random.Random, index: int) -> str:
    roll = rng.random()
    if roll < 0.03:
        return str(10000 + index)  # a legacy numeric id, as a string
    ident = _uuid(rng)
    return ident.upper() if roll < 0.18 else ident


def _postcode(rng: random.Random, district: District) -> str:
    inward = f"{rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    roll = rng.random()
    if roll < 0.1:
        return f"{district.code}{inward}".lower()
    if roll < 0.2:
        return f"{district.code}{inward}"
    return f"{district.code} {inward}"


def _phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.04:
        return rng.choice(("01632 96", "ask at reception", "0163296012345678"))
    tail = rng.randint(0, 999)
    if roll < 0.35:
        return rng.choice(
            (f"07700 900{tail:03d}", f"07700900{tail:03d}", f"+44 7700 900{tail:03d}")
        )
    return rng.choice(
        (f"01632 960{tail:03d}", f"(01632) 960 {tail:03d}", f"+44 1632 960{tail:03d}")
    )


def _description(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.05:
        return ""
    if roll < 0.15:
        return (
            f"<p>{name} &amp; friends meet weekly.</p><p>Carers&#39; tea &ndash; all welcome.</p>"
        )
    if roll < 0.22:
        return f"{name}: a friendly group 😊 for everyone 👵👴 — bring a friend!"
    if roll < 0.25:
        return f"{name}. <script>alert('hello')</script> Ring us before you come."
    if roll < 0.28:
        paragraph = (
            f"{name} supports people and their families across the borough with information, "
            "advice and practical help, including home visits where needed. "
        )
        return "\r\n\r\n".join(paragraph * 4 for _ in range(60))  # about 60 kB
    return f"{name} offers support and activities for local residents."


def _eligibilitys(rng: random.Random) -> list[dict[str, Any]]:
    def entry(text: str, low: float | None, high: float | None) -> dict[str, Any]:
        return {
            "id": _uuid(rng),
            "eligibility": text,
            "minimum_age": low,
            "maximum_age": high,
        }

    roll = rng.random()
    if roll < 0.25:
        return []
    if roll < 0.35:
        return [entry("", None, None)]
    if roll < 0.5:
        return [entry("Children and young people", 0, 18)]
    if roll < 0.62:
        return [entry("Older people", 65, None)]
    if roll < 0.7:
        return [entry("Babies and toddlers", 0, 1.5)]
    if roll < 0.76:
        return [entry("Funded early education", 2.5, 4)]
    if roll < 0.8:
        return [entry("Under fives", 0, 4.5)]
    if roll < 0.9:
        return [entry("Adults", 18, None)]
    return [entry("Children", 0, 11), entry("Parents and carers", 16, None)]


def _entry(rng: random.Random, **fields: Any) -> dict[str, Any]:
    return {"id": _uuid(rng), "description": ""} | fields


def _schedules(rng: random.Random, kind: str) -> list[dict[str, Any]]:
    """`regular_schedules` for one service of a schedule kind (`SCHEDULE_KINDS`)."""
    if kind == "weekdays":
        return [
            _entry(rng, freq="WEEKLY", byday="MO,TU,WE,TH,FR", opens_at="09:00", closes_at="17:00")
        ]
    if kind == "split":
        day = rng.choice(DAYS[:5])
        return [
            _entry(rng, freq="WEEKLY", byday=day, opens_at="09:30", closes_at="12:00"),
            _entry(rng, freq="WEEKLY", byday=day, opens_at="13:00", closes_at="15:30"),
        ]
    if kind == "weekday_names":
        return [
            {"id": _uuid(rng), "weekday": name, "opens_at": "10:00", "closes_at": "14:00"}
            for name in rng.sample(DAY_NAMES[:5], 2)
        ]
    if kind == "monthly":
        byday = rng.choice(("1SA", "-1FR", "2TU"))
        return [
            _entry(
                rng,
                freq="MONTHLY",
                byday=byday,
                opens_at="10:00",
                closes_at="12:00",
                description=f"Monthly ({byday})",
            )
        ]
    if kind == "fortnightly":
        return [
            _entry(
                rng,
                freq="WEEKLY",
                interval="2",
                dtstart="2025-01-06",
                byday=rng.choice(("MO", "WE")),
                opens_at="13:30",
                closes_at="15:00",
                description="Every other week",
            )
        ]
    if kind == "all_hours":
        return [
            _entry(rng, freq="WEEKLY", byday=",".join(DAYS), opens_at="00:00", closes_at="23:59")
        ]
    if kind == "all_hours_by_day":
        return [
            _entry(rng, freq="WEEKLY", byday=day, opens_at="00:00", closes_at="23:59")
            for day in DAYS
        ]
    if kind == "blank_strings":
        return [_entry(rng, freq="", byday="", opens_at="", closes_at="", interval="", dtstart="")]
    return []


def _holiday_schedules(rng: random.Random) -> list[dict[str, Any]]:
    roll = rng.random()
    if roll < 0.85:
        return []
    if roll < 0.95:
        return [
            {
                "id": _uuid(rng),
                "closed": True,
                "opens_at": "",
                "closes_at": "",
                "start_date": "2026-12-24",
                "end_date": "2027-01-02",
            }
        ]
    return [
        {
            "id": _uuid(rng),
            "closed": False,
            "opens_at": "10:00",
            "closes_at": "14:00",
            "start_date": "2026-12-27",
            "end_date": "2026-12-27",
        }
    ]


def _taxonomy(
    term_id: str, name: str, vocabulary: str, parent: str | None = None
) -> dict[str, Any]:
    return {"id": term_id, "name": name, "vocabulary": vocabulary, "parent": parent}


def _esd_service_id(rng: random.Random, code: str) -> str:
    roll = rng.random()
    if roll < 0.5:
        return f"http://id.esd.org.uk/service/{code}"
    if roll < 0.95:
        return f"esdServiceType:{code}"
    return code  # a bare number (NOTES §7)


def _esd_need_id(rng: random.Random, code: str) -> str:
    return rng.choice((f"http://id.esd.org.uk/need/{code}", f"esdNeed:{code}", f"need:{code}"))


def _service_taxonomys(rng: random.Random) -> list[dict[str, Any]]:
    """The service's own classification: ESD, a council's own list, OpenActive-like, or none."""
    terms: list[dict[str, Any]] = []
    roll = rng.random()
    if roll < 0.45:
        for code in rng.sample(sorted(ESD_SERVICES), rng.choice((1, 1, 2))):
            terms.append(
                _taxonomy(_esd_service_id(rng, code), ESD_SERVICES[code], "esdServiceTypes")
            )
        if rng.random() < 0.4:
            code = rng.choice(sorted(ESD_NEEDS))
            terms.append(_taxonomy(_esd_need_id(rng, code), ESD_NEEDS[code], "esdNeeds"))
        if rng.random() < 0.1:
            code = rng.choice(sorted(ESD_CIRCUMSTANCES))
            terms.append(
                _taxonomy(f"esdCircumstance:{code}", ESD_CIRCUMSTANCES[code], "esdCircumstances")
            )
    elif roll < 0.55:
        code = rng.choice(sorted(ESD_NEEDS))
        terms.append(_taxonomy(_esd_need_id(rng, code), ESD_NEEDS[code], "esdNeeds"))
    elif roll < 0.7:
        term_id = rng.choice(sorted(COUNCIL_TERMS))
        name, vocabulary = COUNCIL_TERMS[term_id]
        terms.append(_taxonomy(term_id, name, vocabulary))
    elif roll < 0.8:
        slug = rng.choice(OPENACTIVE_ACTIVITIES)
        label = slug.replace("-", " ").capitalize()
        terms.append(_taxonomy(f"openActiveActivity:{slug}", label, "openActiveActivity"))
    return [{"id": _uuid(rng), "taxonomy": term} for term in terms]


def _location(
    rng: random.Random, districts: list[District], schedules: list[dict[str, Any]]
) -> dict[str, Any]:
    district = rng.choice(districts)
    has_position = rng.random() > 0.1
    return {
        "id": _uuid(rng),
        "location": {
            "id": _uuid(rng),
            "name": rng.choice(("Community Centre", "Library", "Family Hub", "Church Hall")),
            "description": "",
            "latitude": round(district.lat + rng.uniform(-0.01, 0.01), 6) if has_position else None,
            "longitude": round(district.lng + rng.uniform(-0.01, 0.01), 6)
            if has_position
            else None,
            "physical_addresses": [
                {
                    "id": _uuid(rng),
                    "address_1": f"{rng.randint(1, 120)} {rng.choice(('High Street', 'Station Road', 'Church Lane'))}",
                    "city": district.place.replace("_", " ").title(),
                    "state_province": "Bedfordshire" if rng.random() < 0.7 else "",
                    "postal_code": _postcode(rng, district),
                    "country": rng.choice(("GB", "England", "United Kingdom")),
                }
            ],
            "accessibility_for_disabilities": [],
        },
        "regular_schedule": schedules,
    }


def _organisation(rng: random.Random, index: int, council: str) -> dict[str, Any]:
    name = rng.choice(
        ("Carers Together", "Age Well", "Family Support", "Community Action", "Youth Trust")
    )
    slug = f"org{index}"
    ident = _uuid(rng)
    roll = rng.random()
    return {
        "id": ident.upper() if roll < 0.15 else ident,
        "name": f"{name} {index}" if index else council,
        "description": "" if roll < 0.5 else f"{name}: a local charity.",
        "url": rng.choice(("", f"https://{slug}.example.org", "www.example.org")),
        "email": rng.choice(("", f"hello@{slug}.example.org")),
        "logo": "",
        "uri": "",
        "year_incorporated": None,
        "legal_status": rng.choice(("", "Charity")),
        "tax_status": "",
        "tax_id": "",
    }


def council_feed(services: int, seed: int, **profile: Any) -> list[dict[str, Any]]:
    """`services` HSDS-UK 1.0 service objects, the same for the same arguments.

    Profile keys: `council` (the council's name, its own organisation), `areas` (postcode
    district prefixes its venues are in; a district matches when its code starts with one),
    `empty_contact` (exactly this many services have a blank `url` or `email`, or both;
    default 30 %), `malformed_contact` (this many more have a malformed one; default 2 %).
    Raises `ValueError` if the counts exceed `services`.
    """
    rng = random.Random(seed)
    council = str(profile.get("council", "A council"))
    areas = tuple(profile.get("areas", ("MK", "LU", "SG")))
    districts = [d for d in blmk_districts() if d.code.startswith(areas)] or blmk_districts()
    empty = int(profile.get("empty_contact", round(services * 0.3)))
    malformed = int(profile.get("malformed_contact", math.ceil(services * 0.02)))
    if empty + malformed > services:
        raise ValueError("more services with blank or malformed contacts than services")
    order = list(range(services))
    rng.shuffle(order)
    blank_ones, malformed_ones = set(order[:empty]), set(order[empty : empty + malformed])

    organisations = [_organisation(rng, i, council) for i in range(max(1, services // 3))]
    feed = []
    for index in range(services):
        name = f"{rng.choice(('Stay and Play', 'Carers Café', 'Memory Café', 'Walk and Talk', 'Advice Drop-in', 'Lunch Club'))} {index}"
        if rng.random() < 0.05:
            name = f"  {name} "  # stray whitespace, as typed into a CMS
        slug = f"service-{index}"
        url, email = f"https://www.example.org/{slug}", f"{slug}@example.org"
        if index in blank_ones:
            which = rng.choice(("url", "email", "both"))
            if which in ("url", "both"):
                url = rng.choice(BLANKS)
            if which in ("email", "both"):
                email = rng.choice(BLANKS)
        elif index in malformed_ones:
            if rng.random() < 0.5:
                email = rng.choice(MALFORMED_EMAILS)
            else:
                url = rng.choice(MALFORMED_URLS)
        kind = rng.choices(SCHEDULE_KINDS, weights=(40, 8, 6, 8, 6, 4, 2, 4, 8, 14))[0]
        schedules = _schedules(rng, kind if kind != "on_location" else "weekdays")
        locations = [
            _location(rng, districts, schedules if kind == "on_location" else [])
            for _ in range(rng.choice((0, 1, 1, 1, 2)))
        ]
        if kind == "on_location" and not locations:
            locations = [_location(rng, districts, schedules)]
        feed.append(
            {
                "id": _service_id(rng, index),
                "name": name,
                "description": _description(rng, name.strip()),
                "url": url,
                "email": email,
                "status": rng.choices(
                    ("active", "inactive", "temporarily closed", "defunct"), (90, 4, 4, 2)
                )[0],
                "fees": rng.choice(("", "Free", "£3 per session", "Donations welcome")),
                "accreditations": rng.choice(("", "", "Ofsted registered")),
                "assured_date": rng.choice(("", "2025-03-31", "2026-06-30")),
                "deliverable_type": rng.choice(("", "advice", "information", "training")),
                "attending_type": rng.choice(("", "venue", "phone", "online", "home visit")),
                "attending_access": rng.choice(("", "drop-in", "referral", "appointment")),
                "organization": copy.deepcopy(rng.choice(organisations)),
                "contacts": [
                    {
                        "id": _uuid(rng),
                        "name": rng.choice(("", "Duty team", "Group leader")),
                        "title": "",
                        "email": "",
                        "phones": [{"id": _uuid(rng), "number": _phone(rng)}],
                    }
                    for _ in range(rng.choice((0, 1, 1, 2)))
                ],
                "eligibilitys": _eligibilitys(rng),
                "regular_schedules": [] if kind == "on_location" else schedules,
                "holiday_schedules": _holiday_schedules(rng),
                "service_at_locations": locations,
                "service_taxonomys": _service_taxonomys(rng),
                "languages": [
                    {"id": _uuid(rng), "language": language}
                    for language in rng.sample(("English", "Polish", "Urdu", "Bengali"), 1)
                ],
                "fundings": [{"id": _uuid(rng), "source": rng.choice(("", "Council grant"))}],
                "reviews": [],
                "cost_options": [],
                "service_areas": [
                    {"id": _uuid(rng), "service_area": council, "extent": None, "uri": ""}
                ],
            }
        )
    return feed


def paged(feed: list[dict[str, Any]], size: int = 50) -> list[dict[str, Any]]:
    """The HSDS-UK 1.0 pages of a feed (`/services?page=N&per_page=size`, N from 1), each a
    Spring page: `totalElements, totalPages, number, size, first, last, empty, content`."""
    pages = max(1, math.ceil(len(feed) / size))
    return [
        {
            "totalElements": len(feed),
            "totalPages": pages,
            "number": page,
            "size": size,
            "first": page == 1,
            "last": page == pages,
            "empty": not feed,
            "content": feed[(page - 1) * size : page * size],
        }
        for page in range(1, pages + 1)
    ]


# Reading the load report: `LoadReport.as_json()` (the CLI's `--report FILE`) lists the
# warnings of each service kept with warnings as `"kept_with_warnings": {service id: ["field:
# message", ...]}`, ids as navigator stores them.


def warnings_by_service(report_json: dict[str, Any]) -> dict[str, list[str]]:
    """The warning lines of each service kept with warnings, by navigator service id."""
    return {str(k): list(v) for k, v in report_json["kept_with_warnings"].items()}
