"""Why a check failed. Every failure the engine records is one of these.

    CheckFailed                      (kind)
    ├── Unreachable
    │   ├── DnsFailed                "dns"              the name does not resolve (NXDOMAIN,
    │   │                                               SERVFAIL, no nameserver answered)
    │   ├── AddressRefused           "private_address"  the guard refused every address
    │   ├── ConnectFailed            "connect"          refused, reset, unreachable
    │   └── CheckTimedOut            "timeout"          no complete answer within the timeout
    ├── TlsFailed                    "tls"              handshake failed, chain or name invalid
    ├── ProtocolFailed               "protocol"         not a readable HTTP response
    ├── RedirectFailed               "redirect"         too many redirects, a loop, a bad Location
    └── ExpectationFailed                               answered, but not as the monitor expects
        ├── StatusUnexpected         "status"
        ├── KeywordMismatch          "keyword"
        ├── TooSlow                  "slow"
        └── RecordMismatch           "record"           no such DNS record, or a value missing

``kind`` is what a result row stores (short, stable, filterable); the message
is for people. A certificate close to expiry is not a failure: the check
records its days left and the server raises a warning (see
:mod:`caredesk.monitoring.monitor_warnings`); an expired one fails the TLS
handshake. Anything else raised during a check is a bug in the engine,
recorded as kind "internal" rather than allowed to stop the probe.
"""


class CheckFailed(Exception):
    kind = "failed"


class Unreachable(CheckFailed):
    kind = "unreachable"


class DnsFailed(Unreachable):
    kind = "dns"


class AddressRefused(Unreachable):
    kind = "private_address"


class ConnectFailed(Unreachable):
    kind = "connect"


class CheckTimedOut(Unreachable):
    kind = "timeout"


class TlsFailed(CheckFailed):
    kind = "tls"


class ProtocolFailed(CheckFailed):
    kind = "protocol"


class RedirectFailed(CheckFailed):
    kind = "redirect"


class ExpectationFailed(CheckFailed):
    kind = "expectation"


class StatusUnexpected(ExpectationFailed):
    kind = "status"


class KeywordMismatch(ExpectationFailed):
    kind = "keyword"


class TooSlow(ExpectationFailed):
    kind = "slow"


class RecordMismatch(ExpectationFailed):
    kind = "record"


INTERNAL = "internal"

# The failures a probe sees when its own network is gone: every site at once.
NETWORK_KINDS = frozenset({DnsFailed.kind, ConnectFailed.kind, CheckTimedOut.kind})
# What the server stores as a failure's kind when the probe said it had lost its
# network at the time: kept as history, never counted against the site.
PROBE_NETWORK = "probe_network"
