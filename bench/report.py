"""Tables and a chart from benchmark results (the JSON that ``python -m bench`` writes).

    python -m bench.report bench/results/*.json --browser-results bench/results/browser/*.json \\
        --markdown bench/results/growth.md --chart bench/results/page-times.png

The markdown table shows how each figure grows with scale, per engine; the
chart plots every page's cold time against the number of audit events.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

SCALES = ("smoke", "town", "ministry", "nation")


def load(paths: list[str], browser_paths: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The results, smoke to nation, SQLite first. ``browser_paths``: later runs with
    ``--browser`` whose browser-felt figures join the run of the same scale and engine (so the
    growth table keeps its reference runs), or stand as their own column where there is none.

    Only full benchmark runs: bench/results/ also holds other benchmarks' JSON (people-import-*,
    replicas-*, *-chain-speed), which have no pages."""
    results = [r for r in (json.loads(Path(p).read_text()) for p in paths) if "scale" in r and "pages" in r]
    for path in browser_paths:
        later = json.loads(Path(path).read_text())
        same = next((r for r in results if (r["scale"], r["engine"]) == (later["scale"], later["engine"])), None)
        if same is None:
            results.append(later)
        else:
            same["browser"] = later.get("browser", {})
    return sorted(results, key=lambda r: (r["engine"] != "sqlite", SCALES.index(r["scale"])))


def _ms(value: Any) -> str:
    return "—" if value is None else f"{value:,.1f}"


def markdown(results: list[dict[str, Any]]) -> str:
    first = results[0]["machine"]
    lines = [f"Machine: {first['cores']} cores ({first.get('cpu') or 'unknown CPU'}), "
             f"{first['memory_gb']} GB, Python {first['python']}, SQLAlchemy {first['sqlalchemy']}, "
             f"SQLite {first['sqlite']}"
             + next((f", PostgreSQL {r['machine']['postgresql'].split(' ')[0]}" for r in results
                     if r["machine"].get("postgresql")), "") + ".", ""]
    header = ["figure"] + [f"{r['scale']} ({r['engine']})" for r in results]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))

    def row(name: str, fn: Any) -> None:
        cells = []
        for r in results:
            try:
                cells.append(fn(r))
            except (KeyError, TypeError):
                cells.append("—")
        lines.append("| " + " | ".join([name, *cells]) + " |")

    row("audit events", lambda r: f"{r['chain_verify']['events']:,}")
    row("generation (s)", lambda r: f"{r['generation_s']:.1f}")
    row("invariants", lambda r: "all hold" if r["invariants"]["ok"] else "BROKEN")
    row("chain verify (s)", lambda r: f"{r['chain_verify']['seconds']:.2f}")
    row("chain verify (events/s)", lambda r: f"{r['chain_verify']['events_per_s']:,}")
    row("hashlib alone (s)", lambda r: f"{r['chain_verify']['hashlib_seconds']:.2f}")
    row("verify ÷ hashlib", lambda r: f"{r['chain_verify']['ratio']}×")
    row("tally one pilot (ms)", lambda r: _ms(r["tally_one_pilot"]["product_ms"]))
    row("tally raw SQL (ms) / ratio", lambda r: f"{_ms(r['tally_one_pilot']['raw_sql_ms'])} / "
                                                f"{r['tally_one_pilot']['ratio']}×")
    row("compare read model (ms)", lambda r: _ms(r["compare_readmodel"]["product_ms"]))
    row("compare raw SQL (ms) / ratio", lambda r: f"{_ms(r['compare_readmodel']['raw_sql_ms'])} / "
                                                  f"{r['compare_readmodel']['ratio']}×")
    for page in results[-1]["pages"]:
        role = results[-1]["pages"][page]["role"]
        row(f"page {page} as {role}: cold / warm (ms)",
            lambda r, p=page: f"{_ms(r['pages'][p]['cold_ms'])} / {_ms(r['pages'][p]['warm_ms'])}")
    browser_rows(results, row)
    row("peak RSS, benchmark (MB)", lambda r: f"{r['peak_rss_mb']:.0f}")
    row("peak RSS, generator (MB)", lambda r: f"{r['generation_peak_rss_mb']:.0f}")
    return "\n".join(lines) + "\n"


def browser_rows(results: list[dict[str, Any]], row: Any) -> None:
    """The browser-felt figures (``python -m bench --browser``), for the runs that have them."""
    names: dict[str, str] = {}
    for r in results:
        for name, b in r.get("browser", {}).items():
            if isinstance(b, dict) and "role" in b:
                names.setdefault(name, b["role"])
    for name, role in names.items():
        row(f"browser-felt {name} as {role}: cold / warm (ms)",
            lambda r, n=name: f"{_ms(r['browser'][n]['cold_ms'])} / {_ms(r['browser'][n]['warm_ms'])}")
    if any("survey_submitted_ms" in r.get("browser", {}).get("lite", {}) for r in results):
        row("lite, slow link: sign-in usable / survey saved (ms)",
            lambda r: f"{_ms(r['browser']['lite']['sign_in_form_usable_ms'])} / "
                      f"{_ms(r['browser']['lite']['survey_submitted_ms'])}")
        row("lite, slow link: largest response (bytes)",
            lambda r: f"{r['browser']['lite']['largest_response_bytes']:,}")


def chart(results: list[dict[str, Any]], path: str) -> None:
    import altair as alt
    import pandas as pd
    import vl_convert as vlc

    rows = [{"scale": r["scale"], "engine": r["engine"], "audit events": r["chain_verify"]["events"],
             "page": f"{name} ({p['role']})", "cold (ms)": p["cold_ms"]}
            for r in results for name, p in r["pages"].items()]
    felt = [{"scale": r["scale"], "engine": r["engine"], "audit events": r["chain_verify"]["events"],
             "page": f"{name} ({p['role']})", "cold (ms)": p["cold_ms"]}
            for r in results for name, p in r.get("browser", {}).items()
            if isinstance(p, dict) and "cold_ms" in p and name in r["pages"]]
    palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

    def panel(frame: Any, title: str, y_title: str, target_ms: float) -> Any:
        lines = alt.Chart(frame).mark_line(point=True).encode(
            x=alt.X("audit events:Q", scale=alt.Scale(type="log", domain=[1_000, 30_000_000]),
                    title="Audit events (smoke → town → ministry → nation)"),
            y=alt.Y("cold (ms):Q", title=y_title),
            color=alt.Color("page:N", scale=alt.Scale(range=palette)),
            strokeDash=alt.StrokeDash("engine:N", legend=None), shape=alt.Shape("engine:N"),
            tooltip=["page", "engine", "scale", "cold (ms)"])
        target = alt.Chart(pd.DataFrame({"y": [target_ms]})).mark_rule(strokeDash=[6, 4], color="#444").encode(
            y="y:Q")
        return (lines + target).properties(width=520, height=380, title=title)

    spec = panel(pd.DataFrame(rows), "Script time in the server (AppTest; rule: the 300 ms target)",
                 "Page time, cold caches (ms, median of 5)", 300)
    if felt:  # beside it, what a person feels in the browser (python -m bench --browser)
        spec = alt.hconcat(spec, panel(pd.DataFrame(felt), "Browser-felt, click or navigation to settled page "
                                                           "(rule: the 1 s target)",
                                       "Browser-felt page time, new context (ms, median)", 1000)
                           ).properties(title="Every page as its role against organisation size "
                                              "(squares and dashes: SQLite)")
    data = vlc.vegalite_to_png(spec.to_json(), scale=2) if path.endswith(".png") else \
        vlc.vegalite_to_svg(spec.to_json()).encode()
    Path(path).write_bytes(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", nargs="+", help="JSON files written by python -m bench --json")
    parser.add_argument("--browser-results", nargs="*", default=[],
                        help="JSON files of later runs with --browser: their browser-felt figures join the table")
    parser.add_argument("--markdown", help="write the growth table here")
    parser.add_argument("--chart", help="write the page-time chart here (.png or .svg)")
    args = parser.parse_args(argv)
    results = load(args.results, args.browser_results)
    table = markdown(results)
    print(table)
    if args.markdown:
        Path(args.markdown).write_text(table)
    if args.chart:
        chart(results, args.chart)
        print(f"chart written to {args.chart}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
