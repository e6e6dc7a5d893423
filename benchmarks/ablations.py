"""Earlier versions of model pieces, kept only to measure what replacing them gained.

benchmarks/run.py swaps them into the product's model in a child process
(`--variant old-caps`, or `before` for every lever undone); the product
never imports this module.
"""

from __future__ import annotations


def daily_session_caps_per_day_literals(pm) -> None:
    """Rule 7 as the model first stated it (commit 4e8dd4a): a sum of day
    literals per day, and per peer and day a literal "this peer on this
    session on this day" for every session that may be held on several days."""
    model, visit = pm.model, pm.visit
    for k in pm.day_indices:
        held = [sv.day[k] for sv in pm.sessions.values() if k in sv.day]
        if len(held) > visit.settings.max_sessions_per_day:
            model.Add(sum(held) <= visit.settings.max_sessions_per_day)
    for peer in sorted(visit.peers, key=lambda p: p.id):
        cap = visit.peer_cap(peer)
        for k in pm.day_indices:
            on_day = []
            for sv in pm.sessions.values():
                if peer.id not in sv.peer or k not in sv.day:
                    continue
                if len(sv.day) == 1:
                    on_day.append(sv.peer[peer.id])
                    continue
                both = model.NewBoolVar(f"peerday[{sv.session.id},{peer.id},{k}]")
                model.AddBoolOr([sv.peer[peer.id].Not(), sv.day[k].Not(), both])
                on_day.append(both)
            if len(on_day) > cap:
                model.Add(sum(on_day) <= cap)
