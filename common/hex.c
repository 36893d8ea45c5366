#include <string.h>

#include "hex.h"

void
hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char	digits[] = "0123456789abcdef";
	size_t			i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *text, uint8_t *out, size_t len)
{
	size_t	i;
	int	hi, lo;

	if (strlen(text) != 2 * len)
		return -1;
	for (i = 0; i < len; i++) {
		hi = hex_digit(text[2 * i]);
		lo = hex_digit(text[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void
hex_encode_0x(const uint8_t *in, size_t len, char *out)
{
	out[0] = '0';
	out[1] = 'x';
	hex_encode(in, len, out + 2);
}

int
hex_decode_0x(const char *text, uint8_t *out, size_t len, int flags)
{
	size_t	i;

	if (strncmp(text, "0x", 2) == 0)
		text += 2;
	else if (!(flags & HEX_0X_OPTIONAL))
		return -1;
	if (!(flags & HEX_ANY_CASE))
		for (i = 0; text[i] != '\0'; i++)
			if (text[i] >= 'A' && text[i] <= 'F')
				return -1;
	return hex_decode(text, out, len);
}
