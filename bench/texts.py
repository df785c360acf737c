"""Words for the generated organisation: names, sites, frictions, tools, criteria, metrics."""
from __future__ import annotations

import unicodedata

FIRST_NAMES = (
    "Amira", "Ben", "Chloé", "Dev", "Elena", "Farid", "Grace", "Hugo", "Inès", "Jamal", "Kofi", "Lena",
    "Mateo", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sami", "Tara", "Uma", "Victor", "Wen",
    "Ximena", "Yusuf", "Zoë", "Aoife", "Bruno", "Carmen", "Dmitri", "Efua", "Fiona", "Gustavo", "Hana",
    "Ivan", "Joon", "Kaito", "Lucía", "Marek", "Noor", "Olu", "Pablo", "Rania", "Siobhán", "Tomás",
    "Ulla", "Vera", "William", "Yara", "Zainab",
)
LAST_NAMES = (
    "Adeyemi", "Bauer", "Castillo", "Dubois", "Eriksen", "Fernández", "Gallagher", "Haddad", "Ivanova",
    "Jensen", "Kowalski", "Lindqvist", "Mensah", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi",
    "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Yılmaz", "Zhang", "Akhtar", "Byrne", "Costa",
    "Dlamini", "Evans", "Fischer", "García", "Hughes", "Iqbal", "Jovanović", "Kim", "López", "Murphy",
    "Nguyen", "Okafor", "Patel", "Rahman", "Santos", "Thompson", "Uddin", "Vasquez", "Wright", "Young",
    "Zimmermann",
)
INITIALS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

SITES = (
    "Riverside", "Hillside", "Northgate", "Eastbrook", "Westfield", "Southport", "Kingsway", "Meadowbank",
    "Harbourview", "Oakridge", "Stonebridge", "Ashford", "Elmwood", "Brookhaven", "Clearwater", "Fairmont",
    "Glenrock", "Highcliff", "Lakeside", "Millbrook",
)
AREAS = (
    "Health", "Benefits", "Licensing", "Field Operations", "Contact Centre", "Housing", "Education",
    "Transport", "Tax", "Social Care",
)

FRICTIONS = (
    ("Re-keying referral letters", "we re-key referral letters into two systems by hand"),
    ("Chasing missing documents", "we phone applicants to chase documents that were already sent"),
    ("Double entry of visit notes", "field officers write visit notes on paper and type them up later"),
    ("Manual eligibility checks", "we work out eligibility with a paper table and a calculator"),
    ("Transferring calls between teams", "callers are transferred two or three times before an answer"),
    ("Searching three systems for one record", "we search three systems to find one client's record"),
    ("Scheduling home visits by hand", "we plan next week's home visits on a whiteboard"),
    ("Copying test results into letters", "we copy test results into letters one field at a time"),
    ("Re-issuing lost permits", "we re-issue permits that were lost in the post"),
    ("Printing forms to scan them again", "we print online forms so that they can be scanned back in"),
    ("Waiting for approval signatures", "cases wait days for a signature that is always given"),
    ("Reconciling spreadsheets at month end", "we reconcile four spreadsheets by hand at month end"),
)
TOOLS = (
    "Referral letter assistant", "Case triage bot", "Smart visit scheduler", "Document checker",
    "Field notes app", "Voice notes transcriber", "Eligibility calculator", "Knowledge base search",
    "Case summariser", "Queue predictor", "Permit tracker", "Form auto-filler",
)
CRITERIA = (
    ("Minutes re-keying per week", "Time the team spends re-keying information each week.",
     "Timesheet sample, two weeks a month.", "minutes", "lower_is_better", 60.0, 4),
    ("Cases completed first time", "Share of cases finished without a second contact.",
     "Case system report, monthly.", "share", "higher_is_better", 0.8, 10),
    ("Errors found in audit sample", "Errors found in a sample of 50 cases.",
     "Quality team audit, monthly.", "count", "lower_is_better", 5.0, 4),
    ("Days to resolve a case", "Working days from first contact to resolution.",
     "Case system report, weekly.", "days", "lower_is_better", 3.0, 8),
    ("Calls transferred more than once", "Share of calls transferred two or more times.",
     "Telephony export, weekly.", "percent", "lower_is_better", 10.0, 6),
    ("Staff confidence rating", "How confident staff feel handling these cases (1-5).",
     "Short pulse survey, monthly.", "rating_1_5", "higher_is_better", 4.0, 10),
)
METRICS = (
    ("Extraction accuracy", "Fields extracted correctly.", "percent", "higher_is_better", 95.0),
    ("Minutes saved per case", "Staff time saved per case.", "minutes", "higher_is_better", 4.0),
    ("Cost per case", "Running cost per case handled.", "currency", "lower_is_better", 12.0),
    ("System uptime", "Share of working hours the tool was available.", "percent", "higher_is_better", 99.5),
    ("Cases processed per week", "Cases the tool helped process each week.", "per_week", "higher_is_better",
     400.0),
    ("Average handling time", "Minutes from opening to closing a case.", "minutes", "lower_is_better", 9.0),
)
FEEDBACK = (
    ("wrong_output", "It filled in the wrong date of birth on two letters today."),
    ("workaround", "We still print the summary because the screen times out on the ward."),
    ("workflow_change", "It would help if the draft went to the duty manager first."),
    ("other", "The training session was too short for night staff."),
    ("wrong_output", "The suggested category is wrong for most housing repair cases."),
    ("workaround", "We keep a paper list as a backup when the connection drops."),
)
RESPONSES = (
    "Thanks, fixed in this week's release.",
    "We changed the workflow as you suggested from Monday.",
    "An extra session for night staff is booked.",
    "We looked into it; the vendor is fixing it, due next month.",
)
INSTEAD = ("The old paper form", "Phone the team", "Nothing, I would go back to re-keying", "")
BENEFIT = ("It saves me an hour a day", "Fewer calls back from clients", "Less typing", "")


def ascii_slug(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum())
