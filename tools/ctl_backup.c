/*
 * tallyctl backup DIR: a consistent copy of the data directory, taken
 * while tallyd serves writes: the store (store_backup), then the signing
 * keys.  DIR is then a data directory as it is.
 *
 * tallyctl restore DIR: makes such a copy the data directory again, but
 * never silently forks the public log (see ctl_restore).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../common/jsonin.h"
#include "ctl.h"

/* Prints "tallyctl: backup: what: why" and returns -1. */
static int
backup_fail(const char *what, const char *why)
{
	fprintf(stderr, "tallyctl: backup: %s: %s\n", what, why);
	return -1;
}

/* dir/name into buf, or -1 (reported) if it does not fit. */
static int
backup_path(char *buf, size_t len, const char *dir, const char *name)
{
	if (snprintf(buf, len, "%s/%s", dir, name) >= (int)len)
		return backup_fail(dir, "path too long");
	return 0;
}

/* 1 if dir holds nothing, 0 if it holds something, -1 (errno) if unread. */
static int
backup_empty(const char *dir)
{
	struct dirent	*de;
	DIR		*d;
	int		 empty = 1;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while (empty && (de = readdir(d)) != NULL)
		empty = strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/*
 * The target: a new directory, or an empty one this user may write,
 * made private (0700): it will hold the private signing keys.
 */
static int
backup_target(const char *dir)
{
	struct passwd	*pw;
	char		 why[160];
	int		 empty, err;

	if (mkdir(dir, 0700) == 0)
		return 0;
	if (errno == EEXIST) {
		if ((empty = backup_empty(dir)) == 0)
			return backup_fail(dir, "not empty: a backup goes into "
			    "a new or an empty directory");
		if (empty == 1 && access(dir, W_OK | X_OK) == 0 &&
		    chmod(dir, 0700) == 0)
			return 0;
	}
	/* Run by root, tallyctl is tally.conf's user by now: say so. */
	err = errno;
	pw = getpwuid(geteuid());
	snprintf(why, sizeof(why), "%s (tallyctl runs as %s)", strerror(err),
	    pw != NULL ? pw->pw_name : "?");
	return backup_fail(dir, why);
}

static int
backup_sync_dir(const char *dir)
{
	int	fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return backup_fail(dir, strerror(errno));
	rc = fsync(fd);
	close(fd);
	return rc == 0 ? 0 : backup_fail(dir, "fsync failed");
}

/* Copies one file into a new one, mode 0600, and syncs it. */
static int
backup_copy(const char *from, const char *to)
{
	char	buf[8192];
	ssize_t	n;
	int	in = -1, out = -1, rc = -1;

	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto out;
	if (n == 0 && fsync(out) == 0)
		rc = 0;
out:
	if (rc < 0)
		backup_fail(from, strerror(errno));
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return rc;
}

/*
 * The private keys, in <data_dir>/keys (core/tlog.c): every file but
 * the new-*.pem a key generation holds for a moment before naming it.
 */
static int
backup_keys(const char *data_dir, const char *target)
{
	struct dirent	*de;
	DIR		*d;
	char		 from[1024], to[1024], src[1300], dst[1300];
	int		 rc = -1;

	if (backup_path(from, sizeof(from), data_dir, "keys") < 0 ||
	    backup_path(to, sizeof(to), target, "keys") < 0)
		return -1;
	if (mkdir(to, 0700) < 0)
		return backup_fail(to, strerror(errno));
	if ((d = opendir(from)) == NULL)
		return backup_fail(from, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, "new-", 4) == 0)
			continue;
		if (backup_path(src, sizeof(src), from, de->d_name) < 0 ||
		    backup_path(dst, sizeof(dst), to, de->d_name) < 0 ||
		    backup_copy(src, dst) < 0)
			goto out;
	}
	rc = backup_sync_dir(to);
out:
	closedir(d);
	return rc;
}

int
ctl_backup(struct store *st, const struct conf *conf, int argc, char *argv[])
{
	int	rc;

	if (argc != 2)
		return ctl_usage();
	if (backup_target(argv[1]) < 0)
		return 1;
	if ((rc = store_backup(st, argv[1])) != STORE_OK)
		return ctl_fail("backup", rc);
	/*
	 * The keys after the store: a key file is on disk before the record
	 * that names it commits (core/tlog.c), so every key the copied
	 * store names is there by now.
	 */
	if (backup_keys(conf->data_dir, argv[1]) < 0 ||
	    backup_sync_dir(argv[1]) < 0) {
		fprintf(stderr, "tallyctl: backup: %s is incomplete: remove "
		    "it\n", argv[1]);
		return 1;
	}
	printf("backup of %s in %s\n", conf->data_dir, argv[1]);
	return 0;
}

/*
 * Restore.  A backup holds the log as it was when it was taken; the
 * world may hold heads signed since (customers, monitors, receipts).
 * Restoring a backup whose log stops short of a published head, and
 * writing on, would sign other trees for sizes someone already holds
 * a head of: a fork, which every client that checks consistency sees
 * as the log lying.  So restore first learns the newest published head:
 * the current data directory's newest, and --head FILE (an answer of
 * GET /api/v1/log/checkpoint saved outside the data directory, the one
 * source left when the directory is lost), the larger of the two.  The
 * backup must hold that very head (its size, signed the same: the same
 * note, byte for byte); else restore refuses, unless --accept-fork.
 *
 * Signing keys made after the backup (a rotation) are kept: every key
 * the current store knows, record and private key file, is carried into
 * the restored store, so GET /keys still lists each key that ever
 * signed, and the newest stays the one that signs.
 */

static int
restore_fail(const char *what, const char *why)
{
	fprintf(stderr, "tallyctl: restore: %s: %s\n", what, why);
	return 1;
}

/* 1 if a tallyd answers on the configured unix socket. */
static int
restore_tallyd_serving(const struct conf *conf)
{
	struct sockaddr_un	sun;
	const char		*path = conf->listen + 5;
	int			fd, up;

	if (strncmp(conf->listen, "unix:", 5) != 0 ||
	    strlen(path) >= sizeof(sun.sun_path))
		return 0;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return 0;
	up = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return up;
}

static int
restore_latest_txn(struct store_txn *t, void *arg)
{
	int	rc = store_sth_latest(t, arg);

	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

/* The store's newest head; size 0 if none. */
static int
restore_latest(struct store *st, struct store_sth *out)
{
	memset(out, 0, sizeof(*out));
	return store_read(st, restore_latest_txn, out);
}

/*
 * --head FILE: a saved answer of GET /api/v1/log/checkpoint, whose data
 * holds treeSize, keyId and checkpoint (the signed note).
 */
static int
restore_head_file(const char *path, struct store_sth *out)
{
	struct json_object	*top = NULL, *data, *v;
	char			 buf[16384], err[160];
	FILE			*f;
	size_t			 n;
	int			 rc = -1;

	memset(out, 0, sizeof(*out));
	if ((f = fopen(path, "re")) == NULL) {
		restore_fail(path, strerror(errno));
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n == sizeof(buf) || jsonin_parse(buf, n, &top, err,
	    sizeof(err)) != 0) {
		restore_fail(path, "not a saved GET /api/v1/log/checkpoint "
		    "answer (JSON)");
		return -1;
	}
	if (!json_object_object_get_ex(top, "data", &data) ||
	    !json_object_object_get_ex(data, "treeSize", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0)
		goto bad;
	out->size = (uint64_t)json_object_get_int64(v);
	if (!json_object_object_get_ex(data, "keyId", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    snprintf(out->key_id, sizeof(out->key_id), "%s",
	    json_object_get_string(v)) >= (int)sizeof(out->key_id) ||
	    !json_object_object_get_ex(data, "checkpoint", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    snprintf(out->note, sizeof(out->note), "%s",
	    json_object_get_string(v)) >= (int)sizeof(out->note))
		goto bad;
	rc = 0;
	goto out;
bad:
	restore_fail(path, "no treeSize, keyId and checkpoint in its data");
out:
	json_object_put(top);
	return rc;
}

struct restore_check {
	const struct store_sth	*published;
	int			 holds;		/* the same head, signed alike */
	int			 knows_key;	/* its key is among the keys */
};

static int
restore_check_txn(struct store_txn *t, void *arg)
{
	struct restore_check	*c = arg;
	struct store_sth	 h;
	struct store_signkey	 k;
	int			 rc;

	rc = store_sth_get(t, c->published->size, &h);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	c->holds = rc == STORE_OK &&
	    strcmp(h.note, c->published->note) == 0;
	rc = store_signkey_get(t, c->published->key_id, &k);
	if (rc != STORE_OK && rc != STORE_NOTFOUND)
		return rc;
	c->knows_key = rc == STORE_OK;
	return STORE_OK;
}

/* Copies dir's files, and those of its keys/, into the new dir to. */
static int
restore_copy_tree(const char *from, const char *to)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	char		 src[1300], dst[1300];
	int		 rc = -1;

	if (mkdir(to, 0700) < 0)
		return backup_fail(to, strerror(errno));
	if ((d = opendir(from)) == NULL)
		return backup_fail(from, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    strncmp(de->d_name, "__db.", 5) == 0)
			continue;
		if (backup_path(src, sizeof(src), from, de->d_name) < 0 ||
		    backup_path(dst, sizeof(dst), to, de->d_name) < 0)
			goto out;
		if (stat(src, &sb) < 0) {
			backup_fail(src, strerror(errno));
			goto out;
		}
		if (S_ISDIR(sb.st_mode) ? strcmp(de->d_name, "keys") == 0 &&
		    restore_copy_tree(src, dst) < 0 :
		    S_ISREG(sb.st_mode) && backup_copy(src, dst) < 0)
			goto out;
	}
	rc = backup_sync_dir(to);
out:
	closedir(d);
	return rc;
}

/* Removes a copy restore_copy_tree made: files, and keys/ with its own. */
static void
restore_remove_tree(const char *dir)
{
	struct dirent	*de;
	struct stat	 sb;
	DIR		*d;
	char		 path[1300];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    backup_path(path, sizeof(path), dir, de->d_name) < 0)
			continue;
		if (lstat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
			restore_remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

struct restore_keys {
	struct store	*to;
	const char	*from_dir, *to_dir;
	int		 added, failed;
};

/* One key of the current store, into the restored one. */
static int
restore_key_txn(struct store_txn *t, void *arg)
{
	const struct store_signkey	*k = arg;
	struct store_signkey		 have;
	int				 rc;

	if ((rc = store_signkey_get(t, k->key_id, &have)) == STORE_NOTFOUND)
		return store_signkey_add(t, k);
	/* Retired since the backup: its validity as the current store has. */
	return rc == STORE_OK ? store_signkey_update(t, k) : rc;
}

static int
restore_key(const struct store_signkey *k, void *arg)
{
	struct restore_keys	*rk = arg;
	char			 src[1300], dst[1300];
	int			 rc;

	if (backup_path(src, sizeof(src), rk->from_dir, k->file) < 0 ||
	    backup_path(dst, sizeof(dst), rk->to_dir, k->file) < 0)
		return STORE_IO;
	/* The file first, as tlog_key_generate does: the record names it. */
	if (access(dst, F_OK) < 0) {
		if (backup_copy(src, dst) < 0)
			return STORE_IO;
		rk->added++;
	}
	if ((rc = store_write(rk->to, restore_key_txn, (void *)(uintptr_t)k))
	    != STORE_OK)
		rk->failed++;
	return rc;
}

static int
restore_keys_txn(struct store_txn *t, void *arg)
{
	return store_signkey_each(t, restore_key, arg);
}

/*
 * Moves the entries of from into to: the current ones into replaced-*
 * (a new directory in the data directory), then the restored ones up
 * from restored-*: the swap happens inside the data directory, the one
 * place tallyctl's user may surely write.  The copy's environment
 * regions (__db.*, made as it was checked) are left behind and removed:
 * the next opener makes the data directory's own.
 */
static int
restore_move(const char *from, const char *to, int drop_regions)
{
	struct dirent	*de;
	DIR		*d;
	char		 src[1300], dst[1300];
	int		 rc = -1;

	if ((d = opendir(from)) == NULL)
		return backup_fail(from, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strncmp(de->d_name, "restored-", 9) == 0 ||
		    strncmp(de->d_name, "replaced-", 9) == 0)
			continue;
		if (backup_path(src, sizeof(src), from, de->d_name) < 0 ||
		    backup_path(dst, sizeof(dst), to, de->d_name) < 0)
			goto out;
		if (drop_regions && strncmp(de->d_name, "__db.", 5) == 0) {
			if (unlink(src) < 0) {
				backup_fail(src, strerror(errno));
				goto out;
			}
		} else if (rename(src, dst) < 0) {
			backup_fail(src, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	closedir(d);
	return rc;
}

/* Says why the backup forks the log, and whether that is accepted. */
static int
restore_fork(const struct store_sth *pub, const struct store_sth *bk,
    const char *backup, int accept)
{
	fprintf(stderr, "tallyctl: restore: %s %s the published head of "
	    "size %llu (the backup's newest is of size %llu).\n"
	    "  Restored, the log would sign other trees for sizes that "
	    "customers and\n"
	    "  monitors already hold heads of: a fork of the public log, "
	    "which every\n"
	    "  client that checks consistency sees as the log lying.\n",
	    backup, bk->size < pub->size ? "stops short of" :
	    "does not hold", (unsigned long long)pub->size,
	    (unsigned long long)bk->size);
	if (!accept) {
		fprintf(stderr, "  Restore a backup taken after that head "
		    "(README, Backup and restore);\n"
		    "  --accept-fork restores this one all the same.\n");
		return 1;
	}
	fprintf(stderr, "  --accept-fork: restoring it all the same.  TELL "
	    "EVERY CUSTOMER: heads\n");
	if (bk->size < pub->size)
		fprintf(stderr, "  of sizes %llu to %llu signed before this "
		    "restore no longer match the log.\n",
		    (unsigned long long)bk->size + 1,
		    (unsigned long long)pub->size);
	else
		fprintf(stderr, "  signed before this restore may no longer "
		    "match the log.\n");
	return 0;
}

static int
restore_usage(void)
{
	fprintf(stderr, "usage: tallyctl restore BACKUP [--head FILE] "
	    "[--accept-fork]\n");
	return 2;
}

/*
 * The published head: the current store's newest, or the saved one's
 * (--head) if it is larger.  Neither known: size 0, which only
 * --accept-fork lets by.
 */
static int
restore_published(struct store *st, const char *head_file, int accept,
    struct store_sth *pub)
{
	struct store_sth	saved;
	int			rc;

	memset(pub, 0, sizeof(*pub));
	if (st != NULL && (rc = restore_latest(st, pub)) != STORE_OK)
		return ctl_fail("restore: current store", rc);
	if (head_file != NULL) {
		if (restore_head_file(head_file, &saved) < 0)
			return 1;
		if (saved.size > pub->size)
			*pub = saved;
	}
	if (pub->size == 0 && !accept) {
		fprintf(stderr, "tallyctl: restore: which heads were "
		    "published is unknown (no current data directory, no "
		    "--head FILE): give --head with a saved GET "
		    "/api/v1/log/checkpoint, or --accept-fork\n");
		return 1;
	}
	return 0;
}

/* The checks on the copy in dir, before it replaces anything. */
static int
restore_verdict(struct store *nw, const char *backup,
    const struct store_sth *pub, int accept)
{
	struct restore_check	c = { pub, 0, 0 };
	struct store_sth	newest;
	int			rc;

	if (pub->size == 0)
		return 0;	/* unknown, and --accept-fork given */
	if ((rc = restore_latest(nw, &newest)) != STORE_OK ||
	    (rc = store_read(nw, restore_check_txn, &c)) != STORE_OK)
		return ctl_fail("restore: backup", rc);
	if (!c.holds && restore_fork(pub, &newest, backup, accept) != 0)
		return 1;
	if (!c.knows_key && !accept)
		return restore_fail(backup, "the published head's key is "
		    "not in the backup nor the current data directory: "
		    "restore it into data_dir/keys, or --accept-fork");
	return 0;
}

int
ctl_restore(struct store *st, const struct conf *conf, int argc,
    char *argv[])
{
	static const struct option opts[] = {
		{ "head", required_argument, NULL, 'h' },
		{ "accept-fork", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 }
	};
	struct restore_keys	 rk;
	struct store_sth	 pub;
	struct store		*nw = NULL;
	const char		*head_file = NULL, *backup;
	char			 tmp[1100], old[1100], stamp[32];
	int			 ch, accept = 0, rc = 1;
	time_t			 now = time(NULL);

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'h')
			head_file = optarg;
		else if (ch == 'f')
			accept = 1;
		else
			return restore_usage();
	}
	if (optind != argc - 1)
		return restore_usage();
	backup = argv[optind];
	if (restore_tallyd_serving(conf))
		return restore_fail(conf->data_dir, "tallyd is serving it: "
		    "stop it first");
	if (restore_published(st, head_file, accept, &pub) != 0)
		return 1;

	/* A lost data directory is made again, empty, as tallyctl init would. */
	if (st == NULL && mkdir(conf->data_dir, 0700) < 0 && errno != EEXIST)
		return restore_fail(conf->data_dir, strerror(errno));
	/* A copy inside the data directory; the backup stays as it is. */
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime(&now));
	if (snprintf(tmp, sizeof(tmp), "%s/restored-%s-%ld", conf->data_dir,
	    stamp, (long)getpid()) >= (int)sizeof(tmp) ||
	    snprintf(old, sizeof(old), "%s/replaced-%s-%ld", conf->data_dir,
	    stamp, (long)getpid()) >= (int)sizeof(old))
		return restore_fail(conf->data_dir, "path too long");
	if (restore_copy_tree(backup, tmp) < 0)
		goto out;
	if ((rc = store_open(&nw, tmp, conf->cache_mb, 0)) != STORE_OK) {
		rc = ctl_fail("restore: backup", rc);
		goto out;
	}
	if ((rc = restore_verdict(nw, backup, &pub, accept)) != 0)
		goto out;
	memset(&rk, 0, sizeof(rk));
	rk.to = nw;
	rk.from_dir = conf->data_dir;
	rk.to_dir = tmp;
	if (st != NULL && (rc = store_read(st, restore_keys_txn, &rk)) !=
	    STORE_OK) {
		rc = ctl_fail("restore: signing keys", rc);
		goto out;
	}
	store_close(nw);
	nw = NULL;
	/* The swap: the current files aside, the restored ones in place. */
	rc = 1;
	if (mkdir(old, 0700) < 0) {
		backup_fail(old, strerror(errno));
		goto out;
	}
	if (restore_move(conf->data_dir, old, 0) < 0 ||
	    restore_move(tmp, conf->data_dir, 1) < 0 || rmdir(tmp) < 0 ||
	    backup_sync_dir(conf->data_dir) < 0) {
		fprintf(stderr, "tallyctl: restore: stopped half way: the "
		    "current files are in %s, the backup's in %s and %s\n",
		    old, tmp, conf->data_dir);
		return 1;
	}
	printf("restored %s into %s (published head: size %llu; %d signing "
	    "key files carried over); the files it replaced are in %s\n",
	    backup, conf->data_dir, (unsigned long long)pub.size, rk.added,
	    old);
	return 0;
out:
	store_close(nw);
	restore_remove_tree(tmp);
	return rc != 0 ? rc : 1;
}
