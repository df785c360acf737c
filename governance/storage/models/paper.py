"""Paper survey forms and ballot sheets, entered later and attested (issue 15, item 3).

* ``paper_batch`` — one printed set of sheets for a survey round or a panel vote;
* ``paper_sheet`` — one printed sheet, with its code (only a digest is kept) and, once
  entered, what the paper said. A sheet of a survey round or of a vote on the record names
  its person; a sheet of a secret vote (R17) names nobody: it holds a keyed *holder token*
  (like a secret ballot's voter token) instead of a person, and its code becomes the
  ballot's receipt;
* ``paper_certificate`` — the closure certificate, written once when a second person
  attests the batch: sheets issued, returned, spoiled and entered, any mismatch in words,
  the SHA-256 of the scan or photo of the paper, who entered and who attested.

Entries count (become responses and ballots, channel "paper") only when the batch is attested.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from governance.storage.models.base import HASH, Base, UtcDateTime, _in

#: What a paper sheet has become.
SHEET_STATES = ("issued", "entered", "spoiled")
#: Where an answer or a ballot came from.
CHANNELS = ("online", "paper")


class PaperBatch(Base):
    """A printed set of sheets for one survey round or one panel vote."""

    __tablename__ = "paper_batch"
    __table_args__ = (
        CheckConstraint("(vote_id IS NULL) <> (round_id IS NULL)", name="one_act"),
        Index("ix_paper_batch_vote", "vote_id"),
        Index("ix_paper_batch_round", "round_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("survey_round.id"))
    #: Secret ballot sheets (R17): the sheets name nobody.
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    sheets_issued: Mapped[int] = mapped_column(Integer)
    printed_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    printed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attested_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    attested_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PaperSheet(Base):
    """One printed sheet: issued, then entered (with what the paper said) or spoiled."""

    __tablename__ = "paper_sheet"
    __table_args__ = (
        CheckConstraint(_in("state", SHEET_STATES), name="state_known"),
        CheckConstraint("(person_id IS NULL) <> (holder_token IS NULL)", name="one_holder"),
        Index("ix_paper_sheet_batch", "batch_id", "state"),
        Index("ix_paper_sheet_person", "person_id"),
        Index("ix_paper_sheet_holder", "holder_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("paper_batch.id"))
    #: The person the sheet was printed for (survey rounds and votes on the record).
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    #: Secret sheets: HMAC(ballot key, sheet, vote, person) — nobody in clear (R17).
    holder_token: Mapped[str | None] = mapped_column(String(HASH))
    #: HMAC(ballot key, act, code) of the printed code; the code itself is on the paper only.
    code_digest: Mapped[str] = mapped_column(String(HASH), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="issued")
    #: What the paper said (canonical JSON: the answers, or the option), once entered.
    answers_json: Mapped[str | None] = mapped_column(Text)
    entered_by: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class PaperCertificate(Base):
    """The closure certificate of an attested batch (written once, never changed)."""

    __tablename__ = "paper_certificate"

    batch_id: Mapped[int] = mapped_column(ForeignKey("paper_batch.id"), primary_key=True)
    issued: Mapped[int] = mapped_column(Integer)
    returned: Mapped[int] = mapped_column(Integer)
    spoiled: Mapped[int] = mapped_column(Integer)
    entered: Mapped[int] = mapped_column(Integer)
    #: The mismatch in words ("" when every issued sheet came back and was entered or spoiled).
    mismatch: Mapped[str] = mapped_column(Text)
    scan_sha256: Mapped[str] = mapped_column(String(HASH))
    scan_filename: Mapped[str] = mapped_column(String(200))
    #: JSON list of the ids of who entered the batch's sheets.
    entered_by_json: Mapped[str] = mapped_column(Text)
    attested_by: Mapped[int] = mapped_column(ForeignKey("person.id"))
    attested_at: Mapped[datetime] = mapped_column(UtcDateTime)
