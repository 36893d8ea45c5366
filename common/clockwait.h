/*
 * Timed waits on a condition variable measured on the monotonic clock,
 * so that a step of the wall clock (NTP, an operator, a test's fake
 * clock) neither stalls a periodic worker nor makes it spin.
 */
#ifndef TALLY_CLOCKWAIT_H
#define TALLY_CLOCKWAIT_H

#include <pthread.h>

/* pthread_cond_init for a condition clockwait() waits on. */
int	clockwait_init(pthread_cond_t *);
/* Waits on cond (lock held) until signalled or ms have passed. */
void	clockwait(pthread_cond_t *, pthread_mutex_t *, long ms);

#endif
