/*
 * Privileges.  Started as root, tallyd and tallyctl become an
 * unprivileged user (tally.conf's `user`) before they open the store, so
 * that every file of the data directory is created by, owned by and
 * reopenable by that one user, whichever program made it.
 */
#ifndef TALLY_PRIV_H
#define TALLY_PRIV_H

#include <stddef.h>

#define PRIV_DATA_CREATE	0x01	/* make a missing data_dir first */

/*
 * Not root: does nothing and returns 0.  Root: checks that data_dir
 * (if it exists) and everything in it belongs to user, with
 * PRIV_DATA_CREATE makes a missing data_dir (0700, owned by user), then
 * sets the groups, group and user IDs to user's, all of them, and checks
 * that root cannot be regained.  Returns 0, or -1 with a message in err;
 * the process must then stop, whatever IDs it was left with.
 */
int	priv_drop(const char *user, const char *data_dir, int flags,
	    char *err, size_t errlen);

#endif
