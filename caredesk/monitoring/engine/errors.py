"""Why a check failed. Every failure the engine records is one of these.

    CheckFailed                      (kind)
    ├── Unreachable
    │   ├── DnsFailed                "dns"              the name does not resolve
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
        └── CertificateExpiring      "cert_expiry"

``kind`` is what a result row stores (short, stable, filterable); the message
is for people. Anything else raised during a check is a bug in the engine,
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


class CertificateExpiring(ExpectationFailed):
    kind = "cert_expiry"


INTERNAL = "internal"
