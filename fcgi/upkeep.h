/*
 * Upkeep of the store, in a thread of its own beside the requests: every
 * interval, whether the store panicked while nobody called it (another
 * process's recovery raises no event here until a call looks:
 * store_panicked, which then runs the store_on_panic callback) and the
 * heap's free pages back to the system; every UPKEEP_SYNC_MS, a sync.  tallyd's FastCGI server and each CGI process
 * run one, at their own intervals.
 */
#ifndef TALLY_UPKEEP_H
#define TALLY_UPKEEP_H

#define UPKEEP_SYNC_MS	30000

struct store;
struct upkeep;

/* Returns 0, or -1 if the thread could not be started. */
int	upkeep_start(struct upkeep **, struct store *, int interval_ms);
/* Stops the thread at once, and frees; NULL is nothing. */
void	upkeep_stop(struct upkeep *);

#endif
