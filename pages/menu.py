"""The pages of the dashboard: name → (script, title, icon), and the menu's order.

Plain data, without Streamlit: the router (``dashboard.py``) builds its navigation from it,
and the browser journeys and the benchmark find each page by its title here."""
from __future__ import annotations

PAGES = {
    "home": ("pages/home.py", "Home", ":material/home:"),
    "problems": ("pages/problems.py", "Problems", ":material/report_problem:"),
    "evaluate": ("pages/evaluate.py", "Evaluate", ":material/rate_review:"),
    "votes": ("pages/votes.py", "Votes", ":material/how_to_vote:"),
    "pilots": ("pages/pilots.py", "Pilots", ":material/rocket_launch:"),
    "compare": ("pages/compare.py", "Compare", ":material/compare_arrows:"),
    "audit": ("pages/audit.py", "Audit", ":material/verified:"),
    "admin": ("pages/admin.py", "Admin", ":material/admin_panel_settings:"),
    "paper": ("pages/paper.py", "Paper", ":material/print:"),
}
#: Menu order: what everyone uses, then the frontline's pages, commissioning and steering's, oversight's.
ORDER = ["home", "votes", "problems", "evaluate", "paper", "pilots", "compare", "audit", "admin"]
#: Each page's title (its sidebar link, its heading and its browser tab).
TITLES = {name: title for name, (_, title, _) in PAGES.items()}
