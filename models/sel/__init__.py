"""SEL: mutual credit inside a section, and exchanges between sections.

``accounts`` and ``ledger`` hold the balances and the hash-chained journal;
``exchanges`` the record of every exchange; ``local`` the exchanges between
two members of this section.

An exchange between members of two sections is an ``Offer`` of an
``Agreement`` (FEP-0837 / ValueFlows terms, ``to_ap`` and ``from_ap``).
The payer's section (``origin``, S1) reserves the amount on its member and
asks; the payee's section (``responder``, S2) decides once, by its own
clock, and answers; S1 then posts or releases. The rules that keep both
sides in agreement whatever is lost, repeated, reordered or restarted:

1. S2's decision is recorded before it is announced and never changes: a
   repeated Offer for the same agreement gets the same answer again.
2. S2 refuses to commit after the agreement's expiry (its clock decides).
   So once S2 has said "not committed", it never commits.
3. S1 posts only on an Accept and releases only on a Reject; a hold whose
   expiry passed without an answer is *not* released: S1 asks again (the
   same Offer, a new activity) until S2 answers, and S2's answer settles it.

Every step is idempotent by the agreement's id. ``reconcile`` lets two
sections compare what each recorded. Domain only: the activities are built
here and queued; federation/ carries them.
"""
