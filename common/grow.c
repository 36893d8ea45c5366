#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

int
grow(void *v, size_t *cap, size_t need, size_t size)
{
	void	*old, *grown;
	size_t	 ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap != 0 ? *cap : GROW_MIN;
	while (ncap < need)
		ncap = ncap <= SIZE_MAX / 2 ? ncap * 2 : need;
	/*
	 * reallocarray refuses this too, but under ASan an overflowing
	 * reallocarray is a report, not a NULL: refused here first.
	 */
	if (size != 0 && ncap > SIZE_MAX / size)
		return -1;
	/* v points at a T *, whatever T is: copied, never cast. */
	memcpy(&old, v, sizeof(old));
	if ((grown = reallocarray(old, ncap, size)) == NULL)
		return -1;
	memcpy(v, &grown, sizeof(grown));
	*cap = ncap;
	return 0;
}
