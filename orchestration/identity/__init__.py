"""Identity graph capability: evaluation against the demo's ground truth and test/bench helpers.

The graph itself is SQL (models/intermediate/identity, models/marts/identity, macros/identity).
"""
