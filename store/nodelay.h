/*
 * TCP_NODELAY on every TCP socket this program connects or accepts
 * (store/nodelay.c), for Berkeley DB's Replication Manager, which never
 * sets it: each acknowledged commit then waits ~40 ms for Nagle's
 * algorithm to meet the peer's delayed ACK (issue 23: 23 commits/s
 * instead of ~1,700).  nodelay.o defines connect() and accept(); linked
 * into the program itself (not from an archive, which would leave it
 * out), libdb's calls resolve to them.
 */
#ifndef TALLY_NODELAY_H
#define TALLY_NODELAY_H

/*
 * The connected TCP sockets of this process without TCP_NODELAY: 0 when
 * the interposition works, as tallyd checks once its group is up.
 */
int	nodelay_missing(void);
/*
 * From now on the TCP connections this process makes or accepts also
 * give up on a silent peer within seconds: a connect after one SYN
 * retry (~3 s), a connection whose data stays unacknowledged after
 * NODELAY_USER_TIMEOUT_MS.  Without it a replication connection tried
 * while a network was cut waits out the kernel's SYN retries (~2 min),
 * and the node rejoins its healed group that much later (measured).
 * Only tallyd's replicating process asks for it, not its webhook sender.
 */
#define NODELAY_USER_TIMEOUT_MS	5000
void	nodelay_fail_fast(void);

#endif
