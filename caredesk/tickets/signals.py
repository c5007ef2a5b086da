"""Signals the ticket core sends after a change has been committed.

Layers above (email, alerts) listen; the ticket core never imports them.
"""

from django.dispatch import Signal

# kwargs: ticket_id, event_id, kind ("created", "reply", "status", "sla_warning", …)
ticket_event = Signal()
