/*
 * tallyctl backup DIR: a consistent copy of the data directory, taken
 * while tallyd serves writes: the store (store_backup), then the signing
 * keys.  DIR is then a data directory as it is: to restore, make it
 * data_dir.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
