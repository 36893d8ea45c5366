/*
 * --head: a standalone signed tree head, as saved from GET
 * /api/v1/log/checkpoint: either the note itself, or the JSON answer
 * {"success":true,"data":{"treeSize","rootHash","signedAt","keyId",
 * "checkpoint":"<note>"}} (or its data alone), whose members must then
 * say what the note says.
 */
#include <string.h>

#include <json-c/json.h>

#include "../common/jsonin.h"
#include "verify.h"

#define WHY_MAX	160

/* The JSON answer's own members against the note they came with. */
static void
head_response(struct report *rep, struct json_object *data,
    const struct note_head *cp, const struct keyring_signer *by)
{
	struct json_object	*v;
	merkle_hash		 root;
	uint64_t		 size;
	const char		*id;
	char			 why[WHY_MAX], want[9], t[64];

	report_begin(rep, CHECK_RESPONSE);
	if (json_object_object_get_ex(data, "treeSize", &v)) {
		if (field_uint(v, UINT64_MAX, &size, why, sizeof(why)) < 0)
			report_fail(rep, "treeSize: %s", why);
		else if (size != cp->size)
			report_fail(rep, "treeSize: %llu, but the note's size "
			    "is %llu", (unsigned long long)size,
			    (unsigned long long)cp->size);
	}
	if (json_object_object_get_ex(data, "rootHash", &v)) {
		if (field_hash(v, root, why, sizeof(why)) < 0)
			report_fail(rep, "rootHash: %s", why);
		else if (memcmp(root, cp->root, MERKLE_HASH_LEN) != 0)
			report_fail(rep, "rootHash: not the note's root");
	}
	if (json_object_object_get_ex(data, "keyId", &v)) {
		snprintf(want, sizeof(want), "%08x", by->id);
		if (field_string(v, 8, 0, &id, why, sizeof(why)) < 0)
			report_fail(rep, "keyId: %s", why);
		else if (strcmp(id, want) != 0) {
			report_text(id, strlen(id), t, sizeof(t));
			report_fail(rep, "keyId: %s, but the note is signed by "
			    "%s", t, want);
		}
	}
	report_end(rep, "treeSize, rootHash and keyId are the note's");
}

static void
head_note(struct report *rep, const char *note, size_t len,
    const struct keyring *keys, struct json_object *data)
{
	struct note_head	 cp;
	struct keyring_signer	 by;
	char			 why[VERIFY_LINE_MAX], hex[VERIFY_HEX_LEN];
	char			 t1[NOTE_ORIGIN_MAX + 1];
	char			 t2[NOTE_ORIGIN_MAX + 1];

	report_begin(rep, CHECK_TREEHEAD);
	if (keyring_open_note(keys, note, len, &cp, &by, why,
	    sizeof(why)) < 0) {
		report_fail(rep, "%s", why);
		report_failed(rep);
		if (data != NULL)
			report_skip(rep, CHECK_RESPONSE, "the note does not "
			    "verify");
		return;
	}
	report_hash(cp.root, hex);
	report_text(cp.origin, strlen(cp.origin), t1, sizeof(t1));
	report_text(by.name, strlen(by.name), t2, sizeof(t2));
	report_end(rep, "%s size %llu root %s, signed by %s %08x", t1,
	    (unsigned long long)cp.size, hex, t2, by.id);
	if (data != NULL)
		head_response(rep, data, &cp, &by);
}

/* The JSON holds no note to check. */
static void
head_refuse(struct report *rep, const char *member, const char *why)
{
	report_begin(rep, CHECK_RESPONSE);
	report_fail(rep, "%s%s", member, why);
	report_failed(rep);
}

void
verify_head(struct report *rep, const char *text, size_t len,
    const struct keyring *keys)
{
	struct json_object	*root = NULL, *data, *v;
	const char		*note;
	char			 why[WHY_MAX];
	size_t			 i;

	for (i = 0; i < len && strchr(" \t\r\n", text[i]) != NULL; i++)
		continue;
	if (i == len || text[i] != '{') {
		head_note(rep, text, len, keys, NULL);
		return;
	}
	if (jsonin_parse(text, len, &root, why, sizeof(why)) < 0 ||
	    (data = field_envelope(root, why, sizeof(why))) == NULL) {
		head_refuse(rep, "", why);
		goto out;
	}
	if (field_member(data, "checkpoint", &v, why, sizeof(why)) < 0 ||
	    field_string(v, NOTE_MAX - 1, FIELD_NONEMPTY, &note, why,
	    sizeof(why)) < 0) {
		head_refuse(rep, "checkpoint: ", why);
		goto out;
	}
	head_note(rep, note, strlen(note), keys, data);
out:
	json_object_put(root);
}
