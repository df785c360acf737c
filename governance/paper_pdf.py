"""The printed paper: survey forms and ballot sheets as one PDF (fpdf2), a page per sheet.

Each page carries the question texts with their answer boxes, the sheet's code in print
and a QR code (segno) of ``rules.paper.qr_payload`` — the round or vote and the code —
so entering can scan it instead of typing. Plain data in, PDF bytes out: no database,
no Streamlit. A survey form and an open ballot sheet name their person; a secret ballot
sheet (R17) names its person only on a strip to tear off before voting, so the sheet
handed back names nobody and its code is the voter's receipt.

The core PDF fonts hold Latin-1 only; any other character prints as "?" (the record keeps
every name exactly; the paper is a means of collecting, not the record).
"""
from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import segno
from fpdf import FPDF

from governance.rules.evidence import SUS_ITEMS, SUS_SCALE
from governance.vocabulary import SurveyAnswer, label

FONT = "Helvetica"
QR_SIZE_MM = 34


@dataclass(frozen=True)
class Sheet:
    """One page: for whom (None on a secret sheet's body), its code and its QR payload."""

    name: str
    code: str
    payload: str


@dataclass(frozen=True)
class Paper:
    """What every page of a batch shares: its title and what it asks."""

    title: str
    #: The survey's main question (a survey form), or the vote's question (a ballot sheet).
    question: str
    #: A ballot sheet's options (their plain labels); empty for a survey form.
    options: tuple[str, ...] = ()
    secret: bool = False


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _qr_png(payload: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(payload, error="m", micro=False).save(buffer, kind="png", scale=4, border=4)
    buffer.seek(0)
    return buffer


def _boxes(pdf: FPDF, choices: Sequence[str], size: float = 10) -> None:
    """One tick box per choice, each on its own line with its words."""
    for choice in choices:
        x, y = pdf.get_x(), pdf.get_y()
        pdf.rect(x + 2, y + 1, 4, 4)
        pdf.set_x(x + 9)
        pdf.set_font(FONT, size=size)
        pdf.cell(0, 6, _latin1(choice), new_x="LMARGIN", new_y="NEXT")


def _header(pdf: FPDF, paper: Paper, sheet: Sheet) -> None:
    top = pdf.get_y()
    if paper.secret:
        pdf.set_font(FONT, size=9)
        pdf.cell(0, 5, _latin1(f"For {sheet.name} - tear off this strip before you vote; hand in the rest."),
                 new_x="LMARGIN", new_y="NEXT")
        with pdf.local_context():
            pdf.set_dash_pattern(dash=2, gap=1.5)
            pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.ln(4)
        top = pdf.get_y()
    pdf.image(_qr_png(sheet.payload), x=pdf.w - pdf.r_margin - QR_SIZE_MM, y=top, w=QR_SIZE_MM, h=QR_SIZE_MM)
    width = pdf.w - pdf.l_margin - pdf.r_margin - QR_SIZE_MM - 4
    pdf.set_font(FONT, style="B", size=14)
    pdf.multi_cell(width, 7, _latin1(paper.title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    who = ("Secret ballot: this sheet names nobody. Keep a note of the code: it is your receipt."
           if paper.secret else f"For: {sheet.name}")
    pdf.multi_cell(width, 5, _latin1(who), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, style="B", size=12)
    pdf.cell(width, 7, f"Sheet code: {sheet.code}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE_MM) + 3)


def _survey_body(pdf: FPDF, paper: Paper) -> None:
    pdf.set_font(FONT, style="B", size=11)
    pdf.multi_cell(0, 6, _latin1(paper.question + " (tick one)"), new_x="LMARGIN", new_y="NEXT")
    _boxes(pdf, [label(a) for a in SurveyAnswer])
    pdf.ln(2)
    pdf.set_font(FONT, style="B", size=10)
    pdf.multi_cell(0, 5, "Usability (optional - answer all ten or none): tick one number per line, "
                         + ", ".join(f"{k} = {v}" for k, v in SUS_SCALE.items()) + ".",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=8)
    for number, item in enumerate(SUS_ITEMS, start=1):
        y = pdf.get_y()
        pdf.cell(125, 5.5, _latin1(f"{number}. {item}"))
        for point in range(1, 6):
            x = pdf.l_margin + 127 + (point - 1) * 11
            pdf.rect(x, y + 1, 3.5, 3.5)
            pdf.text(x + 4.5, y + 4.2, str(point))
        pdf.set_xy(pdf.l_margin, y + 5.5)
    for prompt in ("What would you use instead?", "What is the main benefit for you?"):
        pdf.ln(2)
        pdf.set_font(FONT, style="B", size=10)
        pdf.cell(0, 6, prompt, new_x="LMARGIN", new_y="NEXT")
        pdf.rect(pdf.l_margin, pdf.get_y(), pdf.w - pdf.l_margin - pdf.r_margin, 22)
        pdf.set_y(pdf.get_y() + 23)


def _ballot_body(pdf: FPDF, paper: Paper) -> None:
    pdf.set_font(FONT, style="B", size=12)
    pdf.multi_cell(0, 7, _latin1(paper.question), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(0, 6, "Tick one box.", new_x="LMARGIN", new_y="NEXT")
    _boxes(pdf, paper.options, size=12)


def build_pdf(paper: Paper, sheets: Sequence[Sheet]) -> bytes:
    """The batch as PDF bytes: one A4 page per sheet, in the order given."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_title(_latin1(paper.title))
    pdf.set_creator("Pilot Evaluation Governance")
    for sheet in sheets:
        pdf.add_page()
        _header(pdf, paper, sheet)
        (_ballot_body if paper.options else _survey_body)(pdf, paper)
        pdf.set_font(FONT, size=8)
        pdf.set_y(-15)
        pdf.cell(0, 5, "Hand this sheet back to your facilitator. It is entered and checked by two people.",
                 align="C")
    return bytes(pdf.output())


def certificate_pdf(title: str, lines: Sequence[tuple[str, str]]) -> bytes:
    """The closure certificate of an attested batch as a one-page PDF: ``lines`` of (what, value)."""
    pdf = FPDF(format="A4")
    pdf.set_title(_latin1(f"Closure certificate - {title}"))
    pdf.add_page()
    pdf.set_font(FONT, style="B", size=14)
    pdf.multi_cell(0, 8, _latin1(f"Closure certificate - {title}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for what, value in lines:
        pdf.set_font(FONT, style="B", size=10)
        pdf.cell(55, 6, _latin1(what))
        pdf.set_font(FONT, size=10)
        pdf.multi_cell(0, 6, _latin1(value or "-"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
