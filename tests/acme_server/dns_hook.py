"""certbot's --manual-auth-hook in the tests: publish the dns-01 TXT record, wait until the
loopback DNS server answers it.

The test process runs the DNS server; this hook (a child of certbot) hands it the record
through a file the test watches, then asks the server until it is there.
"""

import os
import sys
import time

import dns.resolver

domain = os.environ["CERTBOT_DOMAIN"]
validation = os.environ["CERTBOT_VALIDATION"]
with open(os.environ["ACME_TEST_RECORDS"], "a") as records:
    records.write(f"_acme-challenge.{domain} {validation}\n")

resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = ["127.0.0.1"]
resolver.port = int(os.environ["ACME_TEST_DNS_PORT"])
deadline = time.monotonic() + 20
while time.monotonic() < deadline:
    try:
        answer = resolver.resolve(f"_acme-challenge.{domain}", "TXT")
        if any(validation in b"".join(r.strings).decode() for r in answer):
            sys.exit(0)
    except dns.exception.DNSException:
        pass
    time.sleep(0.1)
sys.exit("the loopback DNS server never answered the record")
