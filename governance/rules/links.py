"""Personal one-time links (issue 15, item 2): when one expires and when it no longer works.

Pure: the service loads the link and its act, asks these, and refuses with the message.
"""
from __future__ import annotations

from datetime import datetime, timedelta

#: A survey round has no deadline: its links last this long (and end sooner if the round closes).
SURVEY_LINK_LIFETIME = timedelta(days=14)


def link_expiry(now: datetime, vote_deadline: datetime | None) -> datetime:
    """A vote's link expires at the vote's deadline; a survey round's after ``SURVEY_LINK_LIFETIME``."""
    return vote_deadline if vote_deadline is not None else now + SURVEY_LINK_LIFETIME


def link_refusal(*, now: datetime, expires_at: datetime, used_at: datetime | None,
                 revoked_at: datetime | None, act_closed: bool) -> str | None:
    """Why a personal link cannot be used now (a message saying what to do), or None if it can."""
    if used_at is not None:
        return (f"This personal link was already used, on {used_at:%d %b %Y at %H:%M} UTC; each link works "
                "once. To change your answer, sign in on /lite/ with your email and password, or ask your "
                "facilitator for a new link.")
    if revoked_at is not None:
        return ("This personal link was replaced by a newer one. Use the newest link you were given, or ask "
                "your facilitator for a new one.")
    if act_closed:
        return "This survey round or vote has closed, so its links no longer work."
    if now >= expires_at:
        return (f"This personal link expired on {expires_at:%d %b %Y at %H:%M} UTC. Ask your facilitator for a "
                "new one, or sign in on /lite/.")
    return None
