/* Growing arrays: one rule for every array Tally grows. */
#ifndef TALLY_GROW_H
#define TALLY_GROW_H

#include <stddef.h>

#define GROW_MIN	8	/* elements of a first allocation */

/*
 * Makes the array *v (v is the address of the caller's pointer, of any
 * object type; NULL with *cap 0 to start) hold at least need elements
 * of size bytes: the capacity doubles from *cap (GROW_MIN if 0) until
 * it reaches need, and the array moves with reallocarray.  Returns 0
 * with *v and *cap updated (nothing changes if need <= *cap), or -1 on
 * overflow or out of memory with *v and *cap as they were: the old
 * array stays the caller's to free.
 */
int	grow(void *v, size_t *cap, size_t need, size_t size);

#endif
