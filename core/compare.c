/*
 * Matching their list against the record, in memory that does not grow
 * with the scope: their list (at most what a 64 KiB body holds) is sorted
 * once and grouped by referenceId; the record's deltas are walked in
 * order, each found in it by binary search (a referenceId names one
 * delta of a customer, so a match only adds to its group).  Of the
 * record's unmatched deltas only those that can fall on the page are
 * kept: the list is ordered by referenceId, so a page ending at position
 * offset + limit needs at most that many of the smallest unmatched
 * referenceIds (a max-heap of them), and of the deltas without one, which
 * come last in the record's order, the first that many; the others are
 * only counted.  Work is O(scope log theirs + scope log page), memory
 * O(theirs + offset + limit), and the answer holds the page alone.
 */
#include <stdlib.h>
#include <string.h>

#include "../common/grow.h"
#include "compare.h"

/* compare_txn's own reason to end its transaction. */
enum compare_stop {
	COMPARE_WIDE = STORE_USER	/* more deltas than it may match */
};

/* Their amount for one referenceId (summed if it repeats), and ours. */
struct compare_ref {
	const char	*reference;	/* the question's */
	decimal_t	 theirs, recorded;
	int		 has_recorded;
};

/* A recorded delta their list does not name: missing_in_theirs. */
struct compare_unmatched {
	char		*id;		/* owned: referenceId, else recordId */
	decimal_t	 amount;
};

/* At most keep of the unmatched deltas, and how many there were. */
struct compare_kept {
	struct compare_unmatched *v;
	size_t		 n, cap, keep;
	uint64_t	 seen;
};

struct compare_match {
	const char			*tenant;
	enum store_env			 env;
	const struct compare_question	*q;
	struct compare_answer		*a;
	struct compare_ref		*t;	/* sorted, one per referenceId */
	size_t				 nt;
	struct compare_kept		 refs;	/* max-heap by referenceId */
	struct compare_kept		 norefs; /* the first, in record order */
	size_t				 cap;	/* of a->page */
};

static int
compare_ref_cmp(const void *a, const void *b)
{
	const struct compare_ref	*x = a, *y = b;

	return strcmp(x->reference, y->reference);
}

static int
compare_ref_find(const void *key, const void *elem)
{
	const struct compare_ref	*y = elem;

	return strcmp(key, y->reference);
}

static int
compare_unmatched_cmp(const void *a, const void *b)
{
	const struct compare_unmatched	*x = a, *y = b;

	return strcmp(x->id, y->id);
}

static void
compare_kept_clear(struct compare_kept *k)
{
	while (k->n > 0)
		free(k->v[--k->n].id);
	k->seen = 0;
}

/* Appends (id, amount) to k, which must have room for it below keep. */
static int
compare_kept_add(struct compare_kept *k, const char *id, decimal_t amount)
{
	if (grow(&k->v, &k->cap, k->n + 1, sizeof(*k->v)) < 0)
		return STORE_NOMEM;
	if ((k->v[k->n].id = strdup(id)) == NULL)
		return STORE_NOMEM;
	k->v[k->n++].amount = amount;
	return STORE_OK;
}

/* Restores the max-heap order of k from position i down. */
static void
compare_heap_down(struct compare_kept *k, size_t i)
{
	struct compare_unmatched tmp;
	size_t			 big, c;

	for (;;) {
		big = i;
		for (c = 2 * i + 1; c <= 2 * i + 2 && c < k->n; c++)
			if (strcmp(k->v[c].id, k->v[big].id) > 0)
				big = c;
		if (big == i)
			return;
		tmp = k->v[i];
		k->v[i] = k->v[big];
		k->v[big] = tmp;
		i = big;
	}
}

/* Keeps reference if it is among the keep smallest seen so far. */
static int
compare_heap_offer(struct compare_kept *k, const char *reference,
    decimal_t amount)
{
	struct compare_unmatched tmp;
	char			*id;
	size_t			 i;
	int			 rc;

	k->seen++;
	if (k->n < k->keep) {
		if ((rc = compare_kept_add(k, reference, amount)) != STORE_OK)
			return rc;
		for (i = k->n - 1; i > 0 && strcmp(k->v[(i - 1) / 2].id,
		    k->v[i].id) < 0; i = (i - 1) / 2) {
			tmp = k->v[i];
			k->v[i] = k->v[(i - 1) / 2];
			k->v[(i - 1) / 2] = tmp;
		}
		return STORE_OK;
	}
	if (k->n == 0 || strcmp(reference, k->v[0].id) >= 0)
		return STORE_OK;
	if ((id = strdup(reference)) == NULL)
		return STORE_NOMEM;
	free(k->v[0].id);
	k->v[0].id = id;
	k->v[0].amount = amount;
	compare_heap_down(k, 0);
	return STORE_OK;
}

/* Their list, sorted, one entry per referenceId, amounts summed. */
static int
compare_theirs(struct compare_match *m)
{
	const struct compare_question	*q = m->q;
	size_t				 i;

	if (q->nlist == 0)
		return 0;
	if ((m->t = calloc(q->nlist, sizeof(m->t[0]))) == NULL)
		return -1;
	for (i = 0; i < q->nlist; i++) {
		m->t[i].reference = q->list[i].reference;
		m->t[i].theirs = q->list[i].amount;
	}
	qsort(m->t, q->nlist, sizeof(m->t[0]), compare_ref_cmp);
	for (i = 0; i < q->nlist; i++) {
		if (m->nt > 0 && strcmp(m->t[m->nt - 1].reference,
		    m->t[i].reference) == 0)
			m->t[m->nt - 1].theirs += m->t[i].theirs;
		else
			m->t[m->nt++] = m->t[i];
	}
	return 0;
}

static int
compare_record_entry(struct store_delta *d, void *arg)
{
	struct compare_match	*m = arg;
	struct compare_ref	*th;
	decimal_t		 amount;

	if (decimal_parse(d->delta, strlen(d->delta), &amount) != DECIMAL_OK)
		return STORE_CORRUPT;
	if (!d->has_reference) {
		if (m->norefs.seen++ < m->norefs.keep)
			return compare_kept_add(&m->norefs, d->record_id,
			    amount);
		return STORE_OK;
	}
	/* m->t is NULL for an empty list: no bsearch(NULL). */
	if (m->nt == 0 || (th = bsearch(d->reference_id, m->t, m->nt,
	    sizeof(m->t[0]), compare_ref_find)) == NULL)
		return compare_heap_offer(&m->refs, d->reference_id, amount);
	th->recorded += amount;
	th->has_recorded = 1;
	return STORE_OK;
}

static int
compare_txn(struct store_txn *t, void *arg)
{
	struct compare_match		*m = arg;
	const struct compare_question	*q = m->q;
	struct balance			*b = &m->a->b;
	size_t				 i;
	int				 rc;

	if ((rc = balance_derive(t, m->tenant, m->env, q->customer,
	    &q->scope, b)) != STORE_OK || !q->matched)
		return rc;
	if (b->count > COMPARE_DELTAS_MAX)
		return COMPARE_WIDE;
	/* A retried transaction starts again. */
	for (i = 0; i < m->nt; i++) {
		m->t[i].recorded = 0;
		m->t[i].has_recorded = 0;
	}
	compare_kept_clear(&m->refs);
	compare_kept_clear(&m->norefs);
	/* No unmatched delta beyond the page's end can be on it. */
	m->refs.keep = m->norefs.keep = q->offset + q->limit <
	    COMPARE_DELTAS_MAX ? q->offset + q->limit : COMPARE_DELTAS_MAX;
	return balance_each(t, m->tenant, m->env, q->customer, b->first_seq,
	    b->last_seq, 0, b->count, compare_record_entry, m);
}

/* Counts one discrepancy, and adds it to the page if it is on it. */
static int
compare_discrepancy(struct compare_match *m, enum compare_kind kind,
    const char *reference, const char *record_id, decimal_t recorded,
    decimal_t theirs)
{
	struct compare_answer		*a = m->a;
	const struct compare_question	*q = m->q;
	struct compare_discrepancy	*d;

	if (a->total++ < q->offset || a->total > q->offset + q->limit)
		return 0;
	if (grow(&a->page, &m->cap, a->npage + 1, sizeof(*a->page)) < 0)
		return -1;
	d = &a->page[a->npage++];
	d->kind = kind;
	d->reference = reference;
	d->record_id = record_id;
	d->recorded = recorded;
	d->theirs = theirs;
	return 0;
}

/*
 * The page of discrepancies between the record and their list, by
 * referenceId; the record's deltas that have no referenceId cannot be
 * matched and come last, by recordId in the record's order.  a->total
 * gets how many there are in all.  Every delta kept has its exact
 * position: each one not kept lies beyond the page (see above).
 */
static int
compare_discrepancies(struct compare_match *m)
{
	struct compare_ref	*th;
	struct compare_unmatched *u;
	size_t			 i, j;
	int			 rc = 0;

	if (m->refs.n > 0)	/* v is NULL when empty: no qsort(NULL) */
		qsort(m->refs.v, m->refs.n, sizeof(m->refs.v[0]),
		    compare_unmatched_cmp);
	for (i = j = 0; rc == 0 && (i < m->nt || j < m->refs.n); ) {
		th = i < m->nt ? &m->t[i] : NULL;
		u = j < m->refs.n ? &m->refs.v[j] : NULL;
		if (th != NULL && (u == NULL ||
		    strcmp(th->reference, u->id) < 0)) {
			i++;
			if (!th->has_recorded)
				rc = compare_discrepancy(m,
				    COMPARE_MISSING_IN_RECORD, th->reference,
				    NULL, 0, th->theirs);
			else if (th->recorded != th->theirs)
				rc = compare_discrepancy(m,
				    COMPARE_AMOUNT_DIFFERS, th->reference,
				    NULL, th->recorded, th->theirs);
		} else {
			j++;
			rc = compare_discrepancy(m, COMPARE_MISSING_IN_THEIRS,
			    u->id, NULL, u->amount, 0);
		}
	}
	m->a->total += m->refs.seen - m->refs.n;
	for (j = 0; rc == 0 && j < m->norefs.n; j++)
		rc = compare_discrepancy(m, COMPARE_MISSING_IN_THEIRS, NULL,
		    m->norefs.v[j].id, m->norefs.v[j].amount, 0);
	m->a->total += m->norefs.seen - m->norefs.n;
	return rc;
}

/* |a - b| <= tolerance */
static int
compare_within(decimal_t a, decimal_t b, decimal_t tolerance)
{
	decimal_t	d = a - b;

	return (d < 0 ? -d : d) <= tolerance;
}

/* The balances against the record's, once b is read. */
static void
compare_balances(const struct compare_question *q, struct compare_answer *a)
{
	a->start = balance_start(&q->scope, &a->b, q->has_start, q->start);
	a->neutral = a->start + a->b.net;
	a->your_difference = q->yours - a->neutral;
	a->their_difference = q->theirs - a->neutral;
	a->matches_yours = compare_within(q->yours, a->neutral, q->tolerance);
	a->matches_theirs = q->has_theirs &&
	    compare_within(q->theirs, a->neutral, q->tolerance);
	a->match = a->matches_yours && (!q->has_theirs || a->matches_theirs);
}

enum balance_result
compare_run(struct store *st, const char *tenant, enum store_env env,
    const struct compare_question *q, struct compare_answer *a)
{
	struct compare_match	*m;
	int			 rc;

	memset(a, 0, sizeof(*a));
	if ((a->m = m = calloc(1, sizeof(*m))) == NULL)
		return BALANCE_NOMEM;
	m->tenant = tenant;
	m->env = env;
	m->q = q;
	m->a = a;
	if (q->matched && compare_theirs(m) < 0)
		return BALANCE_NOMEM;
	if ((rc = store_read(st, compare_txn, m)) == COMPARE_WIDE)
		return BALANCE_TOO_WIDE;
	if (rc != STORE_OK)
		return balance_outcome(rc, &a->b);
	compare_balances(q, a);
	if (q->matched && compare_discrepancies(m) < 0)
		return BALANCE_NOMEM;
	return BALANCE_OK;
}

void
compare_answer_free(struct compare_answer *a)
{
	struct compare_match	*m = a->m;

	free(a->page);
	a->page = NULL;
	a->npage = 0;
	if (m == NULL)
		return;
	free(m->t);
	compare_kept_clear(&m->refs);
	compare_kept_clear(&m->norefs);
	free(m->refs.v);
	free(m->norefs.v);
	free(m);
	a->m = NULL;
}
