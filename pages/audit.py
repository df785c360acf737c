"""Audit: who declared success, when, and on what basis — on a tamper-evident record."""
from __future__ import annotations

import json
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from governance import services as sv
from governance.queries import audit as audit_q, votes as votes_q
from governance.vocabulary import label
from pages import common, views

me = common.page("audit", "Audit",
                 "Declarations and their frozen basis, claims and their checks, amendments, and the "
                 "hash-chained event record.")
# A link to an event (?event=seq) opens the event log; one to a declaration (?decision=) the first tab.
common.tab_for_link("audit-tab", {"event": "Event log"})
# Only the open tab is computed (the tabs rerun the page when switched, and ``.open`` says which is
# shown): each tab's read models miss the cache after every write (the chain's head keys them), so
# computing all five on every run made this page the slowest to open under load.
tab_decisions, tab_claims, tab_amend, tab_log, tab_chain = st.tabs(
    ["Declarations", "Claims", "Amendments", "Event log", "Chain verification"], key="audit-tab", on_change="rerun")


def downloads(name: str, records: list[dict[str, Any]], key: str) -> None:
    """CSV and JSON of exactly what is shown."""
    left, right = st.columns(2)
    with left:
        common.csv_download("Download CSV", records, f"{name}.csv", key=f"{key}-csv")
    right.download_button("Download JSON", json.dumps(records, indent=2, default=str, ensure_ascii=False)
                          .encode("utf-8"), f"{name}.json", "application/json", key=f"{key}-json")


if tab_decisions.open:
    with tab_decisions:
        page = common.cached(votes_q.decisions_page)(me.id, page=st.session_state.get("audit-dec-page", 1))
        shown: list[dict[str, Any]] = [{"decision": r.id, "pilot": r.pilot, "outcome": r.outcome,
                  "declared_at": common.when_utc(r.declared_at), "vote_closed_by": r.declared_by,
                  "adopted_despite_failed_threshold": r.adopt_override, "basis_sha256": r.basis_sha256,
                  # Where the survey answers came from (blank for a basis frozen before paper existed).
                  "survey_answers_online": (r.survey_channels or {}).get("online", ""),
                  "survey_answers_paper": (r.survey_channels or {}).get("paper", "")}
                 for r in page.rows]
        if shown:
            common.selectable(views.decisions_frame(page.rows), [r.id for r in page.rows], chooser="audit-decision")
            common.pager("audit-dec-page", page.total, page.per_page)
            downloads("declarations", shown, "dec")
            chosen = common.choose("Open a declaration's basis", {r.id: r.pilot for r in page.rows},
                                   key="audit-decision", param="decision")
            if chosen:
                views.decision_view(common.cached(votes_q.decision_detail)(me.id, chosen))
        else:
            st.info("No declarations yet.")

if tab_claims.open:
    with tab_claims:
        flagged_only = st.toggle("Only flagged claims", key="claims-flagged")
        claims = common.cached(audit_q.claims_page)(me.id, flagged_only=flagged_only,
                                                    page=st.session_state.get("claims-page", 1))
        shown = [{"claim": c.id, "pilot": c.pilot, "by": c.made_by, "made_at": common.when_utc(c.made_at),
                  "statement": c.statement, "asserts_success": c.asserts_success, "cites": ", ".join(c.cited),
                  "decision_now": c.decision_outcome_now or "none yet",
                  "flags": "; ".join(c.flags_now)} for c in claims.rows]
        st.caption("Claims are non-binding statements. They are checked against what was pre-registered and "
                   "against the binding decision.")
        for c in claims.rows:
            views.claim_card(c, f"**{common.esc(c.pilot)}** — {common.esc(c.made_by)}, {common.when(c.made_at)} "
                                "· NON-BINDING")
        if shown:
            common.pager("claims-page", claims.total, claims.per_page)
            downloads("claims", shown, "claims")
        else:
            st.info("No claims recorded.")

if tab_amend.open:
    with tab_amend:
        only_after = st.toggle("Only amendments made after real use began (outcome switching)", value=True,
                               key="amend-after")
        rows = common.cached(audit_q.amendments)(me.id, after_real_use_only=only_after)
        shown = [{"amendment": a.id, "subject": a.subject, "kind": a.kind, "status": a.status,
                  "change": common.change_text(a.before, a.after), "reason": a.reason,
                  "proposed_by": a.proposed_by, "applied_at": common.when_utc(a.applied_at),
                  "flag": "AMENDED AFTER REAL USE BEGAN" if a.after_real_use else ""} for a in rows]
        if shown:
            st.dataframe(pd.DataFrame([{
                "#": a.id, "Of": a.subject, "Kind": label(a.kind), "Status": label(a.status),
                "Change": common.change_text(a.before, a.after), "Reason": a.reason, "Proposed by": a.proposed_by,
                "Applied": common.when(a.applied_at), "Flag": "AMENDED AFTER REAL USE BEGAN" if a.after_real_use
                else ""} for a in rows]), placeholder=common.NOTHING, hide_index=True, width="stretch",
                column_config={"Change": st.column_config.TextColumn(width="medium"),
                               "Reason": st.column_config.TextColumn(width="large")})
            downloads("amendments", shown, "amend")
        else:
            st.info("No amendments match.")

if tab_log.open:
    with tab_log:
        facets = common.cached(audit_q.facets)(me.id)
        c1, c2, c3 = st.columns(3)
        who = c1.text_input("Who (name contains)", key="log-who")
        what = c2.selectbox("What", [None, *facets.actions], format_func=lambda a: a or "Any action",
                            key="log-what")
        entity = c3.selectbox("Entity", [None, *facets.entity_types], format_func=lambda e: e or "Any entity",
                              key="log-entity")
        c4, c5, c6 = st.columns(3)
        entity_id = c4.text_input("Entity id", key="log-entity-id")
        since = c5.date_input("From", value=None, key="log-from")
        until = c6.date_input("To", value=None, key="log-to")
        filters = {"who_name": who or None, "action": what, "entity_type": entity, "entity_id": entity_id or None,
                   "date_from": since if isinstance(since, date) else None,
                   "date_to": until if isinstance(until, date) else None}
        events = common.cached(audit_q.events_page)(me.id, page=st.session_state.get("log-page", 1), per_page=50,
                                                    **filters)
        shown = [{"seq": e.seq, "time": common.when_utc(e.occurred_at), "actor": e.actor, "action": e.action,
                  "entity": f"{e.entity_type} {e.entity_id}", "payload": e.payload,
                  "hash": e.hash} for e in events.rows]
        if shown:
            st.caption("Times in UTC, as the record keeps them. Select an event to read its full payload.")
            common.selectable(pd.DataFrame([{
                "#": e.seq, "Time (UTC)": common.when_utc(e.occurred_at), "Who": e.actor, "Action": label(e.action),
                "Record": f"{label(e.entity_type)} {e.entity_id}", "What changed": common.payload_summary(e.payload),
                "Hash": e.hash[:12] + "…"} for e in events.rows]), [e.seq for e in events.rows], chooser="log-event",
                column_config={"What changed": st.column_config.TextColumn(width="large")})
            common.pager("log-page", events.total, events.per_page)
            by_seq = {e.seq: e for e in events.rows}
            seq = common.choose("Open an event", {e.seq: f"{label(e.action)} by {e.actor}" for e in events.rows},
                                key="log-event", param="event")
            if seq is not None:
                event = by_seq[seq]
                with st.expander(f"Event {event.seq}: the full payload (JSON)", expanded=True):
                    st.json(event.payload)
                    st.caption(f"Hash {event.hash} · previous {event.prev_hash}")
            # Every matching event, not only this page's 50 (the JSON Lines the offline verifier reads).
            left, right = st.columns(2)
            with left:
                common.csv_download(f"Download this page ({len(shown)} events, CSV)", shown, "audit-events-page.csv",
                                    key="log-csv")
            reader, me_id, chosen_filters = common.uow(), me.id, dict(filters)

            def everything() -> bytes:
                """Built only when pressed (Streamlit runs it beside the rerun), not on every render."""
                return ("".join(line + "\n" for line in audit_q.export_events(reader, me_id, **chosen_filters))
                        .encode("utf-8"))

            right.download_button(f"Download all {events.total:,} matching events (JSON Lines)", everything,
                                  "audit-events.jsonl", "application/jsonl", key="log-jsonl", on_click="ignore")
            if events.total > audit_q.EXPORT_LIMIT:
                right.caption(f"The export holds the first {audit_q.EXPORT_LIMIT:,} in chain order; narrow the "
                              "filters, or export the whole chain (Chain verification).")
        else:
            st.info("No events match these filters.")

def checkpoints_section() -> None:
    """The latest signed checkpoints, who witnessed them, and the witness form (R18)."""
    rows = common.cached(audit_q.checkpoints)(me.id)
    st.markdown("**Signed checkpoints** — keep one outside this system: any later export must agree with it")
    if not rows:
        st.caption("No checkpoint yet: the first is signed at the first declaration, or by the daily job.")
        return
    st.dataframe(pd.DataFrame([{"#": c.id, "Events": c.seq, "Head hash": c.head_hash[:16] + "…",
                                "Why": c.reason, "Signed": common.when(c.made_at),
                                "Witnessed by": ", ".join(c.witnesses) or "—"} for c in rows]),
                 placeholder=common.NOTHING, hide_index=True, width="stretch")
    newest = rows[0]
    st.code(newest.note, language=None)
    st.download_button("Download this checkpoint", newest.note.encode("utf-8"), f"checkpoint-{newest.seq}.txt",
                       "text/plain", key="checkpoint-note")
    with st.expander("Witness this checkpoint with your own key"):
        st.caption("Your cosignature says you saw this head and keep it outside this system. Use your own "
                   "Ed25519 key: upload it for this one act (it is used in memory and never stored), or paste a "
                   "line made offline with `python -m governance.audit cosign checkpoint.txt --key your.pem "
                   "--name your.name` and your public key.")
        with st.form("witness"):
            name = st.text_input("Your witness name (one word)", placeholder="tomasz.audit")
            key = st.file_uploader("Your private key (PEM)", type=["pem"], key="witness-key")
            line = st.text_input("…or a cosignature line made offline")
            public = st.file_uploader("…with your public key (PEM)", type=["pem"], key="witness-public")
            if st.form_submit_button("Witness"):
                common.act(sv.witness_checkpoint, newest.id, witness_name=name,
                           private_key_pem=key.getvalue() if key else None, cosignature=line or None,
                           public_key_pem=public.getvalue() if public else None,
                           success="Your cosignature is recorded with the checkpoint.")
    if st.button("Prepare the auditor pack", key="prepare-pack"):
        with st.spinner("Packing the chain, the checkpoints and the decisions…"):
            st.session_state["_pack"] = common.read_or_error(audit_q.auditor_pack)
    pack = st.session_state.get("_pack")
    if pack:
        st.download_button("Download auditor-pack.zip", pack, "auditor-pack.zip", "application/zip",
                           key="pack-zip")
        st.caption("Verify it anywhere with Python and this package: "
                   "`python -m governance.audit verify-pack auditor-pack.zip` (its README says more).")


if tab_chain.open:
    with tab_chain:
        st.markdown("Every event carries the SHA-256 of the one before it, and the application's MAC. The head is "
                    "signed (a checkpoint) at every declaration and at least daily, with a key kept outside the "
                    "database. Verification recomputes every hash and link, checks the chain against every signed "
                    "checkpoint, and checks every frozen record (locked criteria, bases, closed ballots and rounds) "
                    "against its hash.")
        left, right = st.columns(2)
        if left.button("Verify the whole record now", type="primary", key="verify"):
            with st.spinner("Recomputing every hash and link…"):
                st.session_state["_chain_result"] = common.read_or_error(audit_q.verify)
        if right.button("Verify since the latest checkpoint", key="verify-incremental"):
            with st.spinner("Checking the events since the latest checkpoint…"):
                st.session_state["_chain_result"] = common.read_or_error(audit_q.verify, incremental=True)
        result = st.session_state.get("_chain_result")
        if result:
            if result.ok:
                st.success(common.esc(result.summary))
            else:
                st.error("**Record altered or broken.** " + common.esc(result.summary))
                for alteration in result.alterations:
                    st.error(common.esc(alteration.summary))
            events_col, head_col, checks_col = st.columns(3)
            events_col.metric("Events verified", f"{result.chain.events_checked:,}")
            head_col.metric("Head", f"#{result.chain.head_seq:,}")
            if result.incremental_from is not None:
                checks_col.metric("Verified from the checkpoint at", f"#{result.incremental_from:,}")
            else:
                checks_col.metric("Signed checkpoints holding",
                                  f"{result.checkpoints_verified} of {result.checkpoints_total}")
            st.markdown(f"Head hash  \n`{result.chain.head_hash}`")
        checkpoints_section()
        head_seq, head_hash = audit_q.chain_head(common.uow())
        st.markdown("**Verify offline.** Download the chain and run "
                    "`python -m governance.audit verify audit-chain.jsonl --head SEQ:HASH` on any machine with "
                    f"this repository. The head to check against now is `{head_seq}:{head_hash}` — keep it: a "
                    "later export verified against it also proves nothing was rewritten or cut since.")
        if head_seq > audit_q.EXPORT_LIMIT:
            st.info(f"The chain holds {head_seq:,} events; a download from this page holds the first "
                    f"{audit_q.EXPORT_LIMIT:,}. The whole chain is exported, as a stream, with "
                    "`python -m governance.audit export audit-chain.jsonl` where the database is reachable.")
        if st.button("Prepare the export", key="prepare-export"):
            with st.spinner("Preparing the export…"):
                lines = audit_q.export_events(common.uow(), me.id)
            st.session_state["_chain_export"] = "\n".join(lines)
        export = st.session_state.get("_chain_export")
        if export:
            st.download_button("Download audit-chain.jsonl", export.encode("utf-8"), "audit-chain.jsonl",
                               "application/jsonl", key="chain-jsonl")
