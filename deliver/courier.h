/*
 * The courier: a thread of tallyd that works off the outbox.  It starts
 * the sender process and restarts it if it dies; takes the events that
 * are due, signs each attempt with its endpoint's secret(s) and hands it
 * to the sender; and records every outcome: delivered on a 2xx, else the
 * next attempt after an exponential, jittered wait, until the attempts
 * allowed are spent.  Nothing of it runs on a request thread, and a slow
 * receiver costs a slot of webhook_concurrency, nothing else.
 *
 * Delivery is at least once: an attempt in flight when tallyd or the
 * sender dies is simply made again, under the same event id.
 */
#ifndef TALLY_COURIER_H
#define TALLY_COURIER_H

#include "../common/conf.h"
#include "../store/store.h"

struct courier;

/*
 * exe: tallyd's own path, run as "exe --sender [CA-FILE]" with the socket
 * on fd 3.
 */
int	courier_start(struct courier **, struct store *, const struct conf *,
	    const char *exe);
void	courier_stop(struct courier *);

#define COURIER_SENDER_FD	3

#endif
