#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "pack.h"

void
be64_put(uint8_t out[8], uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--, v >>= 8)
		out[i] = (uint8_t)v;
}

uint64_t
be64_get(const uint8_t in[8])
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

void
be32_put(uint8_t out[4], uint32_t v)
{
	out[0] = (uint8_t)(v >> 24);
	out[1] = (uint8_t)(v >> 16);
	out[2] = (uint8_t)(v >> 8);
	out[3] = (uint8_t)v;
}

uint32_t
be32_get(const uint8_t in[4])
{
	return (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 |
	    (uint32_t)in[2] << 8 | in[3];
}

void
pack_free(struct pack *pk)
{
	free(pk->buf);
	memset(pk, 0, sizeof(*pk));
}

static uint8_t *
pack_reserve(struct pack *pk, size_t n)
{
	if (pk->err)
		return NULL;
	if (n > SIZE_MAX - pk->len ||
	    grow(&pk->buf, &pk->cap, pk->len + n, 1) < 0) {
		pk->err = 1;
		return NULL;
	}
	pk->len += n;
	return pk->buf + pk->len - n;
}

void
pack_u8(struct pack *pk, uint8_t v)
{
	uint8_t	*p;

	if ((p = pack_reserve(pk, 1)) != NULL)
		*p = v;
}

void
pack_u64(struct pack *pk, uint64_t v)
{
	uint8_t	*p;

	if ((p = pack_reserve(pk, 8)) != NULL)
		be64_put(p, v);
}

void
pack_i128(struct pack *pk, __int128 v)
{
	pack_u64(pk, (uint64_t)((unsigned __int128)v >> 64));
	pack_u64(pk, (uint64_t)v);
}

void
pack_bytes(struct pack *pk, const void *data, size_t len)
{
	uint8_t	*p;

	if ((p = pack_reserve(pk, len)) != NULL && len > 0)
		memcpy(p, data, len);
}

void
pack_str(struct pack *pk, const char *s)
{
	size_t	len = strlen(s);

	if (len > 0xffff) {
		pk->err = 1;
		return;
	}
	pack_u8(pk, (uint8_t)(len >> 8));
	pack_u8(pk, (uint8_t)len);
	pack_bytes(pk, s, len);
}

void
pack_blob(struct pack *pk, const void *data, size_t len)
{
	int	i;

	if (len > 0xffffffffUL) {
		pk->err = 1;
		return;
	}
	for (i = 3; i >= 0; i--)
		pack_u8(pk, (uint8_t)(len >> (8 * i)));
	pack_bytes(pk, data, len);
}

void
unpack_init(struct unpack *u, const void *data, size_t len)
{
	u->p = data;
	u->left = len;
	u->err = 0;
}

static const uint8_t *
unpack_take(struct unpack *u, size_t n)
{
	const uint8_t	*p;

	if (u->err || u->left < n) {
		u->err = 1;
		return NULL;
	}
	p = u->p;
	u->p += n;
	u->left -= n;
	return p;
}

uint8_t
unpack_u8(struct unpack *u)
{
	const uint8_t	*p = unpack_take(u, 1);

	return p ? *p : 0;
}

uint64_t
unpack_u64(struct unpack *u)
{
	const uint8_t	*p = unpack_take(u, 8);

	return p ? be64_get(p) : 0;
}

__int128
unpack_i128(struct unpack *u)
{
	uint64_t	hi = unpack_u64(u), lo = unpack_u64(u);

	return (__int128)((unsigned __int128)hi << 64 | lo);
}

void
unpack_bytes(struct unpack *u, void *dst, size_t len)
{
	const uint8_t	*p = unpack_take(u, len);

	if (p != NULL && len > 0)
		memcpy(dst, p, len);
}

void
unpack_str(struct unpack *u, char *dst, size_t size)
{
	size_t		 len;
	const uint8_t	*p;

	len = (size_t)unpack_u8(u) << 8;
	len |= unpack_u8(u);
	if (len >= size) {
		u->err = 1;
		dst[0] = '\0';
		return;
	}
	if ((p = unpack_take(u, len)) == NULL) {
		dst[0] = '\0';
		return;
	}
	memcpy(dst, p, len);
	dst[len] = '\0';
}

const uint8_t *
unpack_blob_ref(struct unpack *u, size_t *len)
{
	const uint8_t	*p;
	size_t		 n = 0;
	int		 i;

	for (i = 0; i < 4; i++)
		n = n << 8 | unpack_u8(u);
	*len = 0;
	if ((p = unpack_take(u, n)) != NULL)
		*len = n;
	return p;
}

char *
unpack_blob(struct unpack *u, size_t *len)
{
	const uint8_t	*p;
	char		*out;
	size_t		 n;

	if ((p = unpack_blob_ref(u, &n)) == NULL ||
	    (out = malloc(n + 1)) == NULL) {
		u->err = 1;
		return NULL;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	if (len != NULL)
		*len = n;
	return out;
}
