#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/timefmt.h"
#include "../crypto/random.h"
#include "tlog.h"

int
tlog_delta_status(struct store_txn *t, struct store_delta *d)
{
	struct store_sth	cover;
	int			rc;

	rc = store_sth_covering(t, d->log_index, &cover);
	if (rc == STORE_NOTFOUND)
		return STORE_OK;
	if (rc != STORE_OK)
		return rc;
	d->status = STORE_DELTA_VERIFIED;
	d->verified_ms = cover.signed_ms;
	return STORE_OK;
}

int
tlog_node(void *txn, unsigned level, uint64_t index, merkle_hash out)
{
	return store_node_get(txn, level, index, out);
}

int
tlog_key_id(const struct sigkey *key, const char *name,
    char out[STORE_KEYID_MAX + 1])
{
	uint32_t	id;

	if (sigkey_note_id(key, name, &id) < 0)
		return -1;
	snprintf(out, STORE_KEYID_MAX + 1, "%08x", id);
	return 0;
}

struct keygen {
	struct store_signkey	*rec;
	int			 rotate;
};

static int
tlog_key_record(struct store_txn *t, void *arg)
{
	struct keygen		*kg = arg;
	struct store_signkey	 old;
	int			 rc;

	rc = store_signkey_active(t, &old);
	if (rc == STORE_OK) {
		if (!kg->rotate)
			return STORE_EXISTS;
		old.valid_to_ms = kg->rec->valid_from_ms;
		if ((rc = store_signkey_update(t, &old)) != STORE_OK)
			return rc;
	} else if (rc != STORE_NOTFOUND)
		return rc;
	return store_signkey_add(t, kg->rec);
}

int
tlog_key_generate(struct store *st, const char *data_dir, const char *name,
    enum sigkey_alg alg, int rotate, struct store_signkey *rec, char *err,
    size_t errlen)
{
	struct sigkey	*key = NULL;
	struct keygen	 kg = { rec, rotate };
	char		 dir[1024], tmp[1100], path[1100], nonce[17];
	int		 rc = STORE_IO;

	memset(rec, 0, sizeof(*rec));
	snprintf(dir, sizeof(dir), "%s/keys", data_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", dir, strerror(errno));
		return STORE_IO;
	}
	/* Its key ID names the file, and is known only once it exists. */
	if (random_hex(nonce, 8) < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s/new-%s.pem", dir, nonce);
	if (sigkey_generate(alg, tmp, &key) < 0) {
		snprintf(err, errlen, "cannot generate a %s key in %s",
		    sigkey_alg_name(alg), dir);
		goto out;
	}
	if (tlog_key_id(key, name, rec->key_id) < 0 ||
	    sigkey_public_pem(key, rec->pem, sizeof(rec->pem)) < 0) {
		snprintf(err, errlen, "cannot encode the new key");
		goto out;
	}
	snprintf(rec->name, sizeof(rec->name), "%s", name);
	snprintf(rec->alg, sizeof(rec->alg), "%s", sigkey_alg_name(alg));
	snprintf(rec->file, sizeof(rec->file), "keys/%s.pem", rec->key_id);
	snprintf(path, sizeof(path), "%s/%s", data_dir, rec->file);
	if (link(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	rec->valid_from_ms = timefmt_now_ms();
	rc = store_write(st, tlog_key_record, &kg);
	if (rc == STORE_EXISTS && !rotate)
		snprintf(err, errlen, "a signing key exists already: use "
		    "signing-key rotate");
	else if (rc != STORE_OK)
		snprintf(err, errlen, "%s", store_strerror(rc));
	if (rc != STORE_OK)
		unlink(path);
out:
	unlink(tmp);
	sigkey_free(key);
	return rc;
}

static int
tlog_key_active_txn(struct store_txn *t, void *arg)
{
	return store_signkey_active(t, arg);
}

int
tlog_key_active(struct store *st, struct store_signkey *out)
{
	return store_read(st, tlog_key_active_txn, out);
}

int
tlog_key_load(const char *data_dir, const struct store_signkey *rec,
    struct sigkey **out, char *err, size_t errlen)
{
	struct sigkey	*key = NULL;
	char		 path[1100], id[STORE_KEYID_MAX + 1];

	*out = NULL;
	snprintf(path, sizeof(path), "%s/%s", data_dir, rec->file);
	if (sigkey_load_private(path, &key, err, errlen) < 0)
		return -1;
	if (tlog_key_id(key, rec->name, id) < 0 ||
	    strcmp(id, rec->key_id) != 0) {
		snprintf(err, errlen, "%s is not the key %s", path,
		    rec->key_id);
		sigkey_free(key);
		return -1;
	}
	*out = key;
	return 0;
}
