#include <stdio.h>

#include <json-c/json.h>

#include "jsonin.h"

int
jsonin_parse(const char *text, size_t len, struct json_object **out,
    char *err, size_t errlen)
{
	struct json_tokener	*tok;
	struct json_object	*obj = NULL;
	enum json_tokener_error	 jerr;
	size_t			 end;

	*out = NULL;
	if (len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "body too large to parse");
		return -1;
	}
	if ((tok = json_tokener_new_ex(JSONIN_DEPTH)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
	    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL && jerr == json_tokener_continue)
		snprintf(err, errlen, "unexpected end of JSON input");
	else if (obj == NULL)
		snprintf(err, errlen, "invalid JSON at byte %zu: %s", end,
		    json_tokener_error_desc(jerr));
	else {
		/* Whitespace may follow the document, nothing else. */
		while (end < len && (text[end] == ' ' || text[end] == '\t' ||
		    text[end] == '\n' || text[end] == '\r'))
			end++;
		if (end != len) {
			snprintf(err, errlen, "unexpected data after JSON "
			    "at byte %zu", end);
			json_object_put(obj);
			obj = NULL;
		}
	}
	json_tokener_free(tok);
	*out = obj;
	return obj == NULL ? -1 : 0;
}
