"""A small authoritative DNS server on 127.0.0.1 (UDP), built with dnspython.

``server.records[("shop.test", "A")] = ["127.0.0.1"]`` answers that; a name
with records of other types only answers NOERROR with no answer; an unknown
name answers NXDOMAIN; names in ``silent`` get no answer at all (the client
times out) and names in ``failing`` get SERVFAIL.
"""

from __future__ import annotations

import socket
import threading

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class DnsServer:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.records: dict[tuple[str, str], list[str]] = {}
        self.silent: set[str] = set()
        self.failing: set[str] = set()
        self.queries: list[tuple[str, str]] = []
        self._stopped = threading.Event()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> DnsServer:
        self.sock.settimeout(0.05)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.sock.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            answer = self._answer(data)
            if answer is not None:
                try:
                    self.sock.sendto(answer, peer)
                except OSError:
                    return

    def _answer(self, data: bytes) -> bytes | None:
        query = dns.message.from_wire(data)
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        kind = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, kind))
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self.failing:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif (name, kind) in self.records:
            rrset = dns.rrset.from_text_list(
                question.name, 60, dns.rdataclass.IN, question.rdtype, self.records[(name, kind)]
            )
            response.answer.append(rrset)
        elif not any(known == name for known, _ in self.records):
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response.to_wire()
