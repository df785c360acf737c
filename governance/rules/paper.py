"""Paper, attested (issue 15, item 3): survey forms and ballot sheets printed, entered later,
and counted only once a second person attests the batch.

Pure: who may print, enter and attest; the sheet codes; the closure certificate's
arithmetic and its mismatch in words; and "never both online and on paper".

* **Two people.** A facilitator of the owning panel prints and enters (``may_enter``).
  A *different* person — steering, or another facilitator of the panel — attests
  (``attest_refusal``): whoever entered any sheet of a batch never attests it.
* **The certificate.** returned = entered + spoiled, issued ≥ returned; sheets not
  returned are a mismatch, said in words (``mismatch_words``) and kept on the
  certificate with the SHA-256 of the scan or photo of the paper.
* **Once.** A person who answered or voted online is not entered from paper, and a
  person whose sheet was entered cannot then answer or vote online (``double_refusal``).
* **Secret sheets (R17).** The sheet of a secret vote names nobody in the record: it
  holds a keyed holder token (``holder_token``), and its code becomes the ballot's
  receipt, so the voter checks their paper ballot in the published list like any other.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from governance.rules.ballots import new_receipt, normalise_receipt
from governance.vocabulary import PanelRole, Role, VoteKind

ONLINE = "online"
PAPER = "paper"
#: How each channel is named wherever evidence is shown.
CHANNEL_LABELS = {ONLINE: "online", PAPER: "paper"}


def _mac(key: bytes, *parts: object) -> str:
    return hmac.new(key, "\x1f".join(str(p) for p in parts).encode("utf-8"), hashlib.sha256).hexdigest()


def new_sheet_code() -> str:
    """A fresh, unguessable sheet code (``secrets``: 50 random bits, e.g. ``7KQ2M-9XD3R``) in the
    receipt alphabet — it is copied from paper, and on a secret sheet it *is* the receipt."""
    return new_receipt()


def normalise_code(typed: str) -> str:
    """A sheet code as typed (any case, spaces, O for 0…) or as its QR code reads (``qr_payload``:
    the code is taken from it), in its printed form."""
    if typed.strip().upper().startswith("PEG1;"):
        fields = dict(part.split("=", 1) for part in typed.strip().split(";")[1:] if "=" in part)
        typed = fields.get("sheet", "")
    return normalise_receipt(typed)


def code_digest(key: bytes, act: str, act_id: int, code: str) -> str:
    """What the record keeps of a sheet's code: a keyed digest bound to its round or vote, so a
    code from another round's sheet is simply not found here."""
    return _mac(key, "sheet", act, act_id, normalise_code(code))


def holder_token(key: bytes, vote_id: int, person_id: int) -> str:
    """Who a secret sheet was printed for, keyed (R17): the service can tell whether a person's
    sheet was entered, a reader of the database cannot tell whose sheet is whose."""
    return _mac(key, "sheet-holder", vote_id, person_id)


def qr_payload(act: str, act_id: int, code: str) -> str:
    """What a sheet's QR code carries: its round or vote and its code (nothing about the person)."""
    return f"PEG1;{act}={act_id};sheet={code}"


def paper_vote_refusal(kind: str) -> str | None:
    """Paper ballots are for panel votes (ratify, lock, amend), whose voters are the panel."""
    if kind == VoteKind.OUTCOME:
        return ("Paper ballot sheets are printed for panel votes only; an outcome vote has commissioning and "
                "steering voters too, who vote online.")
    return None


def may_enter(roles: Iterable[Role], panel_role: str | None) -> bool:
    """Print a batch and enter its sheets: a facilitator of the owning panel."""
    return Role.FACILITATOR in set(roles) and panel_role == PanelRole.FACILITATOR


def attest_refusal(*, actor_id: int, roles: Iterable[Role], panel_role: str | None,
                   entered_by: Iterable[int]) -> str | None:
    """Why this person may not attest the batch, or None. A second person attests: steering, or
    another facilitator of the panel; nobody who entered any of its sheets."""
    if actor_id in set(entered_by):
        return ("You entered sheets of this batch, so you cannot also attest it: a second person (steering, or "
                "another facilitator of the panel) checks the paper against what was entered.")
    held = set(roles)
    if Role.STEERING in held or (Role.FACILITATOR in held and panel_role == PanelRole.FACILITATOR):
        return None
    return "Only steering or a facilitator of the owning panel attests a paper batch."


def double_refusal(*, done_online: bool, entered_on_paper: bool, to: str) -> str | None:
    """Never both (``to``: "paper" when entering a sheet, "online" when answering or voting online)."""
    if to == PAPER and done_online:
        return ("This person already answered or voted online, so their paper sheet cannot be entered as "
                "well. Mark the sheet as spoiled instead.")
    if to == ONLINE and entered_on_paper:
        return ("Your paper sheet for this has been entered, so you cannot also answer or vote online. Ask the "
                "facilitator if this is wrong.")
    return None


def secret_batch_refusal(*, secret: bool, entered: int) -> str | None:
    """R17: a secret batch counted with a single ballot would tell that voter's option (its ballot is the
    only one marked paper, and the attestation shows who voted on paper). It waits for a second one."""
    if secret and entered == 1:
        return ("Only one ballot of this secret batch has been entered: counted alone, it would tell how that "
                "person voted. Enter at least one more sheet of the batch before attesting it.")
    return None


def mismatch_words(*, issued: int, returned: int, entered: int, spoiled: int) -> str:
    """Every difference between what was printed and what came back, in plain words ("" if none)."""
    parts = []
    if issued > returned:
        n = issued - returned
        parts.append(f"{n} of the {issued} sheets printed {'was' if n == 1 else 'were'} not returned")
    if returned != entered + spoiled:
        parts.append(f"{returned} sheets returned but {entered} entered and {spoiled} spoiled")
    return "; ".join(parts) + ("." if parts else "")


@dataclass(frozen=True)
class Certificate:
    """The closure certificate's counts and mismatch, as the rule reckons them."""

    issued: int
    returned: int
    entered: int
    spoiled: int
    mismatch: str


def certificate(*, issued: int, returned: int, entered: int, spoiled: int, note: str) -> tuple[Certificate, list[str]]:
    """The certificate and every problem with it (empty when it may be signed).

    The attester counts the sheets that came back; they must be exactly the sheets entered
    plus those spoiled, and no more than were printed. Sheets not returned may be missing for
    good reasons, but never silently: the attester then says what happened (``note``)."""
    problems = []
    if returned > issued:
        problems.append(f"{returned} sheets counted as returned, but only {issued} were printed; count again.")
    if returned != entered + spoiled:
        problems.append(f"{returned} sheets counted as returned, but {entered} were entered and {spoiled} spoiled "
                        f"({entered + spoiled} in all); enter or spoil the missing sheets, or count again.")
    words = mismatch_words(issued=issued, returned=returned, entered=entered, spoiled=spoiled)
    if words and not note.strip():
        problems.append(f"The paper does not match what was printed ({words}) Say in a sentence what happened.")
    mismatch = words + (f" {note.strip()}" if words and note.strip() else "")
    return Certificate(issued, returned, entered, spoiled, mismatch), problems

