/* setresuid, getresuid and their group twins are GNU extensions. */
#define _GNU_SOURCE

#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "priv.h"

/* data_dir/keys/NAME is as deep as a data directory goes. */
#define PRIV_DEPTH	4

/*
 * Finds the first file at or below path (not following links below it)
 * that uid does not own: 1 with its name in bad, 0 if there is none, -1
 * with errno on an error.
 */
static int
priv_foreign(const char *path, int statflags, uid_t uid, int depth,
    char *bad, size_t badlen)
{
	struct stat	 sb;
	struct dirent	*de;
	DIR		*d;
	char		 sub[1024];
	int		 rc = 0;

	if (fstatat(AT_FDCWD, path, &sb, statflags) < 0)
		return -1;
	if (sb.st_uid != uid) {
		snprintf(bad, badlen, "%s", path);
		return 1;
	}
	if (!S_ISDIR(sb.st_mode) || depth == 0)
		return 0;
	if ((d = opendir(path)) == NULL)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >=
		    (int)sizeof(sub)) {
			errno = ENAMETOOLONG;
			rc = -1;
			break;
		}
		rc = priv_foreign(sub, AT_SYMLINK_NOFOLLOW, uid, depth - 1,
		    bad, badlen);
		/* Gone since readdir: a log file Berkeley DB removed. */
		if (rc < 0 && errno == ENOENT)
			rc = 0;
	}
	closedir(d);
	return rc;
}

/*
 * As root, before the drop: the data directory must be the user's, all
 * of it, or the user could not open (or after a restart reopen) it.
 * A root-owned file found here is refused rather than chowned: a root
 * process changing owners below a path from a config file could be
 * pointed at anything.
 */
static int
priv_data_dir(const char *dir, const struct passwd *pw, int flags, char *err,
    size_t errlen)
{
	struct stat	sb;
	char		bad[1024];
	int		rc;

	if (stat(dir, &sb) < 0 && errno == ENOENT) {
		if (!(flags & PRIV_DATA_CREATE))
			return 0;	/* opening the store says so */
		if (mkdir(dir, 0700) < 0 ||
		    chown(dir, pw->pw_uid, pw->pw_gid) < 0) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return -1;
		}
		return 0;
	}
	rc = priv_foreign(dir, 0, pw->pw_uid, PRIV_DEPTH, bad, sizeof(bad));
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
	else if (rc > 0)
		snprintf(err, errlen, "%s is not owned by %s, who runs Tally: "
		    "chown -R %s: %s", bad, pw->pw_name, pw->pw_name, dir);
	return rc == 0 ? 0 : -1;
}

/* All three user IDs and group IDs, and the groups, are the user's. */
static int
priv_become(const struct passwd *pw, char *err, size_t errlen)
{
	uid_t	ruid, euid, suid;
	gid_t	rgid, egid, sgid, groups[2];

	if (setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		snprintf(err, errlen, "cannot become %s: %s", pw->pw_name,
		    strerror(errno));
		return -1;
	}
	if (getresuid(&ruid, &euid, &suid) < 0 ||
	    getresgid(&rgid, &egid, &sgid) < 0 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid ||
	    rgid != pw->pw_gid || egid != pw->pw_gid || sgid != pw->pw_gid ||
	    getgroups(2, groups) != 1 || groups[0] != pw->pw_gid ||
	    setuid(0) != -1 || setgid(0) != -1) {
		snprintf(err, errlen, "becoming %s left a way back to root",
		    pw->pw_name);
		return -1;
	}
	return 0;
}

int
priv_drop(const char *user, const char *data_dir, int flags, char *err,
    size_t errlen)
{
	struct passwd	*pw;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "no user %s to run as (tally.conf: user; "
		    "make deps creates tally)", user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errlen, "user %s is root: Tally does not run as "
		    "root", user);
		return -1;
	}
	if (priv_data_dir(data_dir, pw, flags, err, errlen) < 0)
		return -1;
	return priv_become(pw, err, errlen);
}
