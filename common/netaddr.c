#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "netaddr.h"

struct v4range {
	uint32_t	net;
	int		bits;
};

/* RFC 6890 special-purpose blocks, and multicast and reserved space. */
static const struct v4range v4_special[] = {
	{ 0x00000000, 8 },	/* "this network" */
	{ 0x0a000000, 8 },	/* private */
	{ 0x64400000, 10 },	/* shared address space (CGN) */
	{ 0x7f000000, 8 },	/* loopback */
	{ 0xa9fe0000, 16 },	/* link-local, cloud metadata */
	{ 0xac100000, 12 },	/* private */
	{ 0xc0000000, 24 },	/* IETF protocol assignments */
	{ 0xc0000200, 24 },	/* documentation */
	{ 0xc0a80000, 16 },	/* private */
	{ 0xc6120000, 15 },	/* benchmarking */
	{ 0xc6336400, 24 },	/* documentation */
	{ 0xcb007100, 24 },	/* documentation */
	{ 0xe0000000, 4 },	/* multicast */
	{ 0xf0000000, 4 },	/* reserved, broadcast */
};

static int
v4_public(uint32_t a)
{
	size_t	i;
	uint32_t mask;

	for (i = 0; i < sizeof(v4_special) / sizeof(v4_special[0]); i++) {
		mask = ~(uint32_t)0 << (32 - v4_special[i].bits);
		if ((a & mask) == v4_special[i].net)
			return 0;
	}
	return 1;
}

/* Global unicast (2000::/3) only, and what an IPv4 mapping embeds. */
static int
v6_public(const uint8_t a[16])
{
	static const uint8_t	v4mapped[12] = { [10] = 0xff, [11] = 0xff };
	static const uint8_t	nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
	static const uint8_t	doc[4] = { 0x20, 0x01, 0x0d, 0xb8 };
	uint32_t		v4;

	if (memcmp(a, v4mapped, 12) == 0 || memcmp(a, nat64, 12) == 0) {
		v4 = (uint32_t)a[12] << 24 | (uint32_t)a[13] << 16 |
		    (uint32_t)a[14] << 8 | a[15];
		return v4_public(v4);
	}
	return (a[0] & 0xe0) == 0x20 && memcmp(a, doc, 4) != 0;
}

int
netaddr_public(const struct sockaddr *sa)
{
	const struct sockaddr_in	*in4;
	const struct sockaddr_in6	*in6;

	switch (sa->sa_family) {
	case AF_INET:
		in4 = (const struct sockaddr_in *)(const void *)sa;
		return v4_public(ntohl(in4->sin_addr.s_addr));
	case AF_INET6:
		in6 = (const struct sockaddr_in6 *)(const void *)sa;
		return v6_public(in6->sin6_addr.s6_addr);
	default:
		return 0;
	}
}

/* Percent-decodes src into out (as a URL parser does to a host). */
static int
netaddr_unescape(const char *src, char *out, size_t outlen)
{
	size_t		o = 0;
	unsigned	v;

	for (; *src != '\0'; src++) {
		if (*src == '%') {
			if (sscanf(src + 1, "%2x", &v) != 1 ||
			    !isxdigit((unsigned char)src[1]) ||
			    !isxdigit((unsigned char)src[2]) || v == 0)
				return -1;
			src += 2;
		} else
			v = (unsigned char)*src;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)v;
	}
	out[o] = '\0';
	return 0;
}

/* "localhost", "localhost.", "x.localhost": loopback by RFC 6761. */
static int
netaddr_localhost(const char *name)
{
	size_t	len = strlen(name);

	if (len > 0 && name[len - 1] == '.')
		len--;
	return (len == 9 && strncasecmp(name, "localhost", 9) == 0) ||
	    (len > 10 && strncasecmp(name + len - 10, ".localhost", 10) == 0);
}

int
netaddr_literal_private(const char *host)
{
	struct sockaddr_in	in4;
	struct sockaddr_in6	in6;
	char			name[256], *zone;

	/*
	 * Read the host as the resolver and the URL parser will: escapes
	 * decoded, an IPv6 zone ("%25lo") cut off, and IPv4 in every form
	 * inet_aton takes ("127.1", "0x7f000001", "2130706433",
	 * "017700000001", "0"), which getaddrinfo accepts too.
	 */
	if (netaddr_unescape(host, name, sizeof(name)) < 0)
		return 1;	/* unreadable: no one can say it is public */
	if (netaddr_localhost(name))
		return 1;
	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	in4.sin_family = AF_INET;
	in6.sin6_family = AF_INET6;
	if (inet_aton(name, &in4.sin_addr) == 1)
		return !netaddr_public((struct sockaddr *)&in4);
	if ((zone = strchr(name, '%')) != NULL)
		*zone = '\0';
	if (inet_pton(AF_INET6, name, &in6.sin6_addr) == 1)
		return zone != NULL || !netaddr_public((struct sockaddr *)&in6);
	return 0;
}
