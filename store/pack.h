/*
 * Store-private record encoding: fixed-width big-endian integers and
 * length-prefixed strings, in a fixed order per record type, so records
 * read the same on any machine and every read is bounds-checked.
 * Errors are sticky: check err once after the last call.
 */
#ifndef TALLY_PACK_H
#define TALLY_PACK_H

#include <stddef.h>
#include <stdint.h>

struct pack {
	uint8_t		*buf;		/* owned; free with pack_free() */
	size_t		 len, cap;
	int		 err;		/* set on out of memory */
};

struct unpack {
	const uint8_t	*p;
	size_t		 left;
	int		 err;		/* set on a short or oversize read */
};

/* A 64-bit big-endian number in 8 bytes: keys that sort numerically. */
void	 be64_put(uint8_t out[8], uint64_t);
uint64_t be64_get(const uint8_t in[8]);
void	 be32_put(uint8_t out[4], uint32_t);
uint32_t be32_get(const uint8_t in[4]);

void	pack_free(struct pack *);
void	pack_u8(struct pack *, uint8_t);
void	pack_u64(struct pack *, uint64_t);
/* A signed 128-bit number (an amount in nano-units), in 16 bytes. */
void	pack_i128(struct pack *, __int128);
void	pack_bytes(struct pack *, const void *, size_t);
/* A string of at most 65535 bytes, with a 16-bit length prefix. */
void	pack_str(struct pack *, const char *);

/* Bytes of any length up to 4 GiB, with a 32-bit length prefix. */
void	pack_blob(struct pack *, const void *, size_t);

void	unpack_init(struct unpack *, const void *, size_t);
uint8_t	unpack_u8(struct unpack *);
uint64_t unpack_u64(struct unpack *);
__int128 unpack_i128(struct unpack *);
void	unpack_bytes(struct unpack *, void *, size_t);
/* Copies a packed string into dst (size bytes with its NUL). */
void	unpack_str(struct unpack *, char *dst, size_t size);

/* A packed blob, copied into a new NUL-terminated buffer (malloc). */
char	*unpack_blob(struct unpack *, size_t *len);
/* A packed blob where it lies in the record (not NUL-terminated). */
const uint8_t *unpack_blob_ref(struct unpack *, size_t *len);

#endif
