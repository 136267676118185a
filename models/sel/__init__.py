"""SEL: mutual credit inside a section, and exchanges between sections.

``accounts`` and ``ledger`` hold the balances and the hash-chained journal;
``exchanges`` the record of every exchange; ``local`` the exchanges between
two members of this section.
"""
