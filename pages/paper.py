"""Paper: survey forms and ballot sheets for people without a connection.

A facilitator prints the sheets for an open survey round or panel vote, hands them out,
and enters each returned sheet by its code; a second person (steering, or another
facilitator of the panel) counts the paper, uploads a scan or photo of it and attests the
batch — only then do the entries count. Thin: reads ``governance.queries.paper``, acts
through ``governance.services``."""
from __future__ import annotations

import streamlit as st

from governance import services as sv
from governance.paper_pdf import certificate_pdf
from governance.queries import paper as paper_q
from governance.queries.paper import BatchView, PaperAct
from governance.rules.evidence import SUS_ITEMS, SUS_SCALE
from governance.vocabulary import PanelOption, SurveyAnswer, label
from pages import common

PRINTED_KEY = "paper-printed"


def print_section(act: PaperAct) -> None:
    """Print a batch (one sheet per person who may still answer or vote) and offer its PDF once."""
    if act.may_print:
        round_id, vote_id = (act.id, None) if act.survey else (None, act.id)
        if st.button("Print the sheets", key=f"print-{act.kind}-{act.id}", type="primary",
                     help="One sheet per person who may still answer or vote here, each with its own code."):
            printed = common.act(sv.print_paper_batch, rerun=False, round_id=round_id, vote_id=vote_id)
            if printed is not None:
                st.session_state[PRINTED_KEY] = (act.kind, act.id, printed.pdf, printed.filename, printed.sheets)
                st.rerun()  # the new batch shows below; the PDF waits in the session for its download
    kept = st.session_state.get(PRINTED_KEY)
    if kept and kept[:2] == (act.kind, act.id):
        st.success(f"{kept[4]} sheets printed. Download them now: the codes on them are not kept anywhere else.")
        st.download_button("Download the sheets (PDF)", data=kept[2], file_name=kept[3], mime="application/pdf",
                           key=f"download-{act.kind}-{act.id}")


def enter_form(act: PaperAct, batch: BatchView) -> None:
    """Enter one returned sheet by its code (typed, or the QR code's text scanned in)."""
    with st.form(f"enter-{batch.id}"):
        code = st.text_input("Sheet code (as printed, or scan the QR code into this field)", key=f"code-{batch.id}")
        spoiled = st.checkbox("This sheet is spoiled (blank, unreadable, or more than one box ticked)",
                              key=f"spoiled-{batch.id}")
        if act.survey:
            answer = st.radio("Main question: how would they feel if they could no longer use it?",
                              [a.value for a in SurveyAnswer], format_func=label, index=None,
                              key=f"answer-{batch.id}")
            with st.expander("Usability, as ticked on the sheet (all ten or none)"):
                sus = [st.radio(f"{i}. {item}", list(SUS_SCALE), index=None, horizontal=True,
                                key=f"paper-sus-{batch.id}-{i}", format_func=lambda v: f"{v} {SUS_SCALE[v]}")
                       for i, item in enumerate(SUS_ITEMS, start=1)]
            instead = st.text_area("What would they use instead? (as written)", key=f"instead-{batch.id}")
            benefit = st.text_area("What is the main benefit for them? (as written)", key=f"benefit-{batch.id}")
            option = None
        else:
            answer, sus, instead, benefit = None, [], "", ""
            option = st.radio("The box ticked on the ballot sheet", [o.value for o in PanelOption],
                              format_func=label, index=None, key=f"option-{batch.id}")
        if st.form_submit_button("Enter this sheet"):
            given = sus if any(v is not None for v in sus) else None
            common.act(sv.enter_paper_sheet, batch.id, code=code, spoiled=spoiled, answer=answer, sus=given,
                       use_instead=instead, main_benefit=benefit, option=option,
                       success="Sheet entered. It counts once the batch is attested.",
                       clear=(f"code-{batch.id}", f"spoiled-{batch.id}"))


def attest_form(batch: BatchView) -> None:
    """The second person's closure certificate: the count, the scan or photo, what happened."""
    with st.form(f"attest-{batch.id}"):
        returned = st.number_input("Sheets returned (count the paper)", min_value=0, step=1, value=None,
                                   key=f"returned-{batch.id}")
        scan = st.file_uploader("Scan or photo of the returned sheets", key=f"scan-{batch.id}",
                                type=["pdf", "png", "jpg", "jpeg"])
        note = st.text_area("What happened, if any sheets were not returned", key=f"note-{batch.id}")
        if st.form_submit_button("Attest this batch", type="primary"):
            common.act(sv.attest_paper_batch, batch.id, returned=returned,
                       scan=scan.getvalue() if scan is not None else b"",
                       scan_filename=scan.name if scan is not None else "", note=note,
                       success="Batch attested: its entries now count.")


def certificate_section(act: PaperAct, batch: BatchView) -> None:
    cert = batch.certificate or {}
    lines = [("Sheets printed", str(cert.get("issued"))), ("Sheets returned", str(cert.get("returned"))),
             ("Sheets entered", str(cert.get("entered"))), ("Sheets spoiled", str(cert.get("spoiled"))),
             ("Mismatch", cert.get("mismatch") or "None: every sheet printed came back."),
             ("Entered by", str(cert.get("entered_by"))), ("Attested by", str(cert.get("attested_by"))),
             ("Attested", common.when(cert.get("attested_at"))),
             ("Scan or photo", f"{cert.get('scan_filename')} (SHA-256 {cert.get('scan_sha256')})")]
    st.markdown("**Closure certificate**")
    st.table({"Item": [w for w, _ in lines], "Value": [v for _, v in lines]})
    st.download_button("Download the certificate (PDF)", data=certificate_pdf(f"{act.title}, batch {batch.id}", lines),
                       file_name=f"certificate-batch-{batch.id}.pdf", mime="application/pdf",
                       key=f"certificate-{batch.id}")


def batch_section(act: PaperAct, batch: BatchView) -> None:
    state = f"attested by {batch.attested_by}" if batch.attested_at else "waiting for entry and attestation"
    heading = (f"Batch {batch.id}: {batch.issued} sheets printed {common.when(batch.printed_at)} by "
               f"{batch.printed_by}; {batch.entered} entered, {batch.spoiled} spoiled; {state}")
    with st.expander(heading, expanded=batch.attested_at is None):
        if batch.secret:
            st.caption("Secret ballot: the sheets name nobody in the record, and each sheet's code is its voter's "
                       "receipt.")
        if batch.attested_at is not None:
            certificate_section(act, batch)
            return
        if batch.may_enter:
            enter_form(act, batch)
        if batch.attest_refusal is None:
            attest_form(batch)
        else:
            st.caption(f"Attesting: {batch.attest_refusal}")


me = common.page("paper", "Paper",
                 "Survey forms and ballot sheets on paper, for people without a connection: print, enter, and "
                 "have a second person attest — entries count only then.")
acts = common.cached(paper_q.paper_desk)(me.id)
if not acts:
    st.caption("There is no open survey round or panel vote of a panel you facilitate (nor, for steering, a "
               "printed batch to attest).")
else:
    chosen = common.choose("Survey round or vote", {i: a.title for i, a in enumerate(acts, start=1)},
                           key="paper-act")
    if chosen is not None:
        act = acts[chosen - 1]
        print_section(act)
        for batch in act.batches:
            batch_section(act, batch)
        if not act.batches:
            st.caption("Nothing printed for this yet.")
