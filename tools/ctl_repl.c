/*
 * tallyctl repl status: the node's role as the first word of the first
 * line ("master", "replica", "electing" or "alone"), then its address,
 * the master it follows, its log position and its peers.
 */
#include <stdio.h>
#include <string.h>

#include "../common/hex.h"
#include "../store/store.h"
#include "ctl.h"

static int
ctl_repl_head(struct store_txn *t, void *arg)
{
	int	rc = store_sth_latest(t, arg);

	return rc == STORE_NOTFOUND ? STORE_OK : rc;
}

static int
ctl_repl_status(struct store *st)
{
	struct store_repl_status	rs;
	struct store_sth		head = { 0 };
	char				root[2 * STORE_HASH_LEN + 3];
	int				i, rc;

	if ((rc = store_repl_status(st, &rs)) != STORE_OK) {
		fprintf(stderr, "tallyctl: repl status: %s\n",
		    store_strerror(rc));
		return 1;
	}
	if (rs.role == STORE_ROLE_ALONE) {
		printf("alone (not in a replication group: repl_listen is not "
		    "set, or this node never started with it)\n");
		return 0;
	}
	printf("%s %s generation %u\n", store_role_name(rs.role), rs.self,
	    rs.generation);
	printf("master: %s\n", rs.master[0] != '\0' ? rs.master : "unknown");
	printf("log: %u/%u\n", rs.lsn_file, rs.lsn_offset);
	if (rs.role == STORE_ROLE_REPLICA)
		printf("caught up: %s\n", rs.caught_up ? "yes" : "no (still "
		    "copying the master's log or databases)");
	/* What this node would serve: equal on every node once caught up. */
	if (store_attach(st) == STORE_OK &&
	    store_read(st, ctl_repl_head, &head) == STORE_OK) {
		hex_encode_0x(head.root, STORE_HASH_LEN, root);
		printf("head: %llu %s\n", (unsigned long long)head.size,
		    head.size > 0 ? root : "-");
	} else
		printf("head: unknown (the databases cannot be read now: a "
		    "master cut off from its group)\n");
	for (i = 0; i < rs.npeers; i++)
		printf("peer: %s%s\n", rs.peers[i].addr,
		    rs.peers[i].master ? " (master)" : "");
	return 0;
}

int
ctl_repl(struct store *st, int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "status") == 0)
		return ctl_repl_status(st);
	fprintf(stderr, "usage: tallyctl repl status\n");
	return 2;
}
