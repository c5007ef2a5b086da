"""Signals the ticket core sends after a change has been committed.

Layers above (email, alerts) listen; the ticket core never imports them.
"""

from django.dispatch import Signal

# kwargs: ticket_id, event_id, kind ("created", "message", "status", …) and, from
# actions, the TicketEvent itself as `event` (listeners need not read it back).
ticket_event = Signal()

# Sent inside the transaction that made the change, with the same kwargs: for
# work that must commit or roll back with it (the mail outbox).
ticket_event_in_transaction = Signal()
