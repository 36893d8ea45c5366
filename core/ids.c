#include <string.h>

#include "ids.h"

static int
ids_charset(const char *s, size_t min, size_t max, const char *extra,
    int upper)
{
	size_t	len = strlen(s), i;
	char	c;

	if (len < min || len > max)
		return 0;
	for (i = 0; i < len; i++) {
		c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    (upper && c >= 'A' && c <= 'Z') ||
		    (c != '\0' && strchr(extra, c) != NULL))
			continue;
		return 0;
	}
	return 1;
}

int
ids_customer_valid(const char *s)
{
	return ids_charset(s, 1, 128, "_.:-", 1);
}

int
ids_tenant_valid(const char *s)
{
	return ids_charset(s, 1, 64, "_-", 0) && s[0] != '_' && s[0] != '-';
}
