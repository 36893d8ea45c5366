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
 * For a URL's host: 1 if it is an IP literal ("192.0.2.1", "[2001:db8::1]"
 * without the brackets) that is not public, else 0 (names are judged
 * when they are resolved).
 */
int	netaddr_literal_private(const char *host);

#endif
