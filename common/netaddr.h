/*
 * Which addresses a webhook may be delivered to.  By default only public
 * ones: a tenant's endpoint must not make the server reach its own
 * loopback, its private networks or the cloud's metadata service.
 */
#ifndef TALLY_NETADDR_H
#define TALLY_NETADDR_H

struct sockaddr;

/* 1 if sa is a public unicast IPv4 or IPv6 address, else 0. */
int	netaddr_public(const struct sockaddr *sa);
/*
 * For a URL's host: 1 if it names an address that is not public without
 * a DNS lookup: an IP literal in any form the resolver takes ("10.1",
 * "0x7f000001", "2130706433", "[fe80::1%25lo]" without the brackets),
 * percent-escaped or not, or localhost; else 0 (other names are judged
 * by netaddr_public on the address they resolve to, at delivery).
 */
int	netaddr_literal_private(const char *host);

#endif
