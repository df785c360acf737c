"""Audit: who declared success, when, and on what basis — on a tamper-evident record."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd
import streamlit as st

from governance.queries import audit as audit_q
from governance.queries import votes as votes_q
from governance.vocabulary import label
from pages import common, views

me = common.page("audit", "Audit",
                 "Declarations and their frozen basis, claims and their checks, amendments, and the "
                 "hash-chained event record.")
tab_decisions, tab_claims, tab_amend, tab_log, tab_chain = st.tabs(
    ["Declarations", "Claims", "Amendments", "Event log", "Chain verification"], key="audit-tab", on_change="rerun")


def downloads(name: str, records: list[dict], key: str) -> None:
    """CSV and JSON of exactly what is shown."""
    left, right = st.columns(2)
    with left:
        common.csv_download("Download CSV", records, f"{name}.csv", key=f"{key}-csv")
    right.download_button("Download JSON", json.dumps(records, indent=2, default=str, ensure_ascii=False)
                          .encode("utf-8"), f"{name}.json", "application/json", key=f"{key}-json")


with tab_decisions:
    page = common.cached(votes_q.decisions_page)(me.id, page=st.session_state.get("audit-dec-page", 1))
    shown = [{"decision": r["id"], "pilot": r["pilot"], "outcome": r["outcome"],
              "declared_at": common.when(r["declared_at"]), "vote_closed_by": r["declared_by"],
              "adopted_despite_failed_threshold": r["adopt_override"], "basis_sha256": r["basis_sha256"]}
             for r in page.rows]
    if shown:
        st.dataframe(views.decisions_frame(page.rows), hide_index=True, width="stretch")
        common.pager("audit-dec-page", page.total, page.per_page)
        downloads("declarations", shown, "dec")
        chosen = common.choose("Open a declaration's basis", page.rows, key="audit-decision", name="pilot")
        if chosen:
            views.decision_view(common.cached(votes_q.decision_detail)(me.id, chosen))
    else:
        st.info("No declarations yet.")

with tab_claims:
    flagged_only = st.toggle("Only flagged claims", key="claims-flagged")
    claims = common.cached(audit_q.claims_page)(me.id, flagged_only=flagged_only,
                                                page=st.session_state.get("claims-page", 1))
    shown = [{"claim": c["id"], "pilot": c["pilot"], "by": c["made_by"], "made_at": common.when(c["made_at"]),
              "statement": c["statement"], "asserts_success": c["asserts_success"], "cites": ", ".join(c["cited"]),
              "decision_now": c["decision_outcome_now"] or "none yet",
              "flags": "; ".join(c["flags_now"])} for c in claims.rows]
    st.caption("Claims are non-binding statements. They are checked against what was pre-registered and "
               "against the binding decision.")
    for c in claims.rows:
        with st.container(border=True):
            st.markdown(f"**{common.esc(c['pilot'])}** — {common.esc(c['made_by'])}, {common.when(c['made_at'])} "
                        "· NON-BINDING")
            st.markdown(f"“{common.esc(c['statement'])}”")
            for flag in c["flags_now"]:
                common.badge("fail", flag)
            if not c["flags_now"]:
                common.badge("pass", "no flags")
    if shown:
        common.pager("claims-page", claims.total, claims.per_page)
        downloads("claims", shown, "claims")
    else:
        st.info("No claims recorded.")

with tab_amend:
    only_after = st.toggle("Only amendments made after real use began (outcome switching)", value=True,
                           key="amend-after")
    rows = common.cached(audit_q.amendments)(me.id, after_real_use_only=only_after)
    shown = [{"amendment": a["id"], "subject": a["subject"], "kind": a["kind"], "status": a["status"],
              "before": json.dumps(a["before"]), "after": json.dumps(a["after"]), "reason": a["reason"],
              "proposed_by": a["proposed_by"], "applied_at": common.when(a["applied_at"]),
              "flag": "AMENDED AFTER REAL USE BEGAN" if a["after_real_use"] else ""} for a in rows]
    if shown:
        st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")
        downloads("amendments", shown, "amend")
    else:
        st.info("No amendments match.")

with tab_log:
    facets = common.cached(audit_q.facets)(me.id)
    c1, c2, c3 = st.columns(3)
    who = c1.text_input("Who (name contains)", key="log-who")
    what = c2.selectbox("What", [None, *facets["actions"]], format_func=lambda a: a or "Any action",
                        key="log-what")
    entity = c3.selectbox("Entity", [None, *facets["entity_types"]], format_func=lambda e: e or "Any entity",
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
    shown = [{"seq": e["seq"], "time": common.when(e["occurred_at"]), "actor": e["actor"], "action": e["action"],
              "entity": f"{e['entity_type']} {e['entity_id']}", "payload": e["payload"],
              "hash": e["hash"]} for e in events.rows]
    if shown:
        st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch")
        common.pager("log-page", events.total, events.per_page)
        downloads("audit-events-page", shown, "log")
    else:
        st.info("No events match these filters.")

with tab_chain:
    st.markdown("Every event carries the SHA-256 of the one before it. Verification recomputes every hash "
                "and checks every link, from the first event to the head.")
    if st.button("Verify the chain now", type="primary", key="verify"):
        with st.spinner("Recomputing every hash and link…"):
            result = audit_q.verify(common.uow(), me.id)
        st.session_state["_chain_result"] = result.as_dict() | {"summary": result.summary}
    result = st.session_state.get("_chain_result")
    if result:
        if result["ok"]:
            st.success(common.esc(result["summary"]))
        else:
            st.error(common.esc(result["summary"]) + f" ({label(result['problem'])})")
        a, b, c = st.columns([1, 1, 3])
        a.metric("Events verified", f"{result['events_checked']:,}")
        b.metric("Head", f"#{result['head_seq']:,}")
        c.markdown(f"Head hash  \n`{result['head_hash']}`")
        with st.expander("Verification details"):
            st.json(result)
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
            records = audit_q.export_events(common.uow(), me.id)
        st.session_state["_chain_export"] = "\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    export = st.session_state.get("_chain_export")
    if export:
        st.download_button("Download audit-chain.jsonl", export.encode("utf-8"), "audit-chain.jsonl",
                           "application/jsonl", key="chain-jsonl")
