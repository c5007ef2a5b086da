"""Signals the ticket core sends after a change has been committed.

Layers above (email, alerts) listen; the ticket core never imports them.
"""

from django.dispatch import Signal

# kwargs: ticket_id, event_id, kind ("created", "message", "status", …) and, from
# actions, the TicketEvent itself as `event` (listeners need not read it back).
ticket_event = Signal()
