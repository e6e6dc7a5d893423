"""The planning board: a web workspace over the planner library (issue 12).

`planner serve [WORKSPACE]` runs it; see docs/web.md.
"""
