/*
 * The verifier's output: one line per check, "ok   " or "FAIL " (or
 * "skip " for a check that could not run), the check's name, a colon and
 * what it found; then one summary line.  Scripts can grep "^FAIL ".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/hex.h"
#include "../common/timefmt.h"
#include "verify.h"

static const char *const check_names[CHECK_MAX] = {
	[CHECK_RECEIPT] = "receipt",
	[CHECK_STATEMENT] = "statement",
	[CHECK_SIGNATURE] = "signature",
	[CHECK_TREEHEAD] = "treeHead",
	[CHECK_DELTAS] = "deltas",
	[CHECK_PROOFROOT] = "proofRoot",
	[CHECK_DELTASCOUNT] = "deltasCount",
	[CHECK_NETCHANGE] = "netChange",
	[CHECK_ENDINGBALANCE] = "endingBalance",
	[CHECK_INCLUSION] = "inclusion",
	[CHECK_CHAIN] = "chain",
	[CHECK_RESPONSE] = "response"
};

const char *
check_name(enum check c)
{
	return c < CHECK_MAX ? check_names[c] : "?";
}

void
report_init(struct report *rep, FILE *out)
{
	memset(rep, 0, sizeof(*rep));
	rep->out = out;
}

static void
report_line(struct report *, const char *, enum check, const char *,
    va_list) __attribute__((format(printf, 4, 0)));

static void
report_line(struct report *rep, const char *tag, enum check c,
    const char *fmt, va_list ap)
{
	char	line[VERIFY_LINE_MAX];

	if (rep->out == NULL)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(rep->out, "%-4s %s: %s\n", tag, check_name(c), line);
}

void
report_begin(struct report *rep, enum check c)
{
	rep->cur = c;
	rep->open = 1;
	rep->cur_fails = 0;
}

void
report_vfail(struct report *rep, const char *fmt, va_list ap)
{
	if (rep->cur_fails++ < REPORT_FAILS_MAX)
		report_line(rep, "FAIL", rep->cur, fmt, ap);
}

void
report_fail(struct report *rep, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	report_vfail(rep, fmt, ap);
	va_end(ap);
}

/* For the "N more" line, which has no caller's va_list to pass on. */
static void
report_tail(struct report *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
report_tail(struct report *rep, const char *tag, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	report_line(rep, tag, rep->cur, fmt, ap);
	va_end(ap);
}

void
report_end(struct report *rep, const char *fmt, ...)
{
	va_list	ap;

	if (!rep->open)
		return;
	rep->open = 0;
	if (rep->cur_fails > REPORT_FAILS_MAX)
		report_tail(rep, "FAIL", "%u more problems not shown",
		    rep->cur_fails - REPORT_FAILS_MAX);
	if (rep->cur_fails > 0) {
		rep->failed++;
		return;
	}
	rep->ok++;
	va_start(ap, fmt);
	report_line(rep, "ok", rep->cur, fmt, ap);
	va_end(ap);
}

void
report_failed(struct report *rep)
{
	/* Never an ok line by mistake: a check ended here has failed. */
	if (rep->open && rep->cur_fails == 0)
		report_fail(rep, "not checked");
	report_end(rep, "%s", "");
}

void
report_cancel(struct report *rep, const char *fmt, ...)
{
	va_list	ap;

	if (!rep->open)
		return;
	if (rep->cur_fails > 0) {
		report_failed(rep);
		return;
	}
	rep->open = 0;
	rep->skipped++;
	va_start(ap, fmt);
	report_line(rep, "skip", rep->cur, fmt, ap);
	va_end(ap);
}

void
report_skip(struct report *rep, enum check c, const char *fmt, ...)
{
	va_list	ap;

	rep->skipped++;
	va_start(ap, fmt);
	report_line(rep, "skip", c, fmt, ap);
	va_end(ap);
}

int
report_finish(struct report *rep)
{
	unsigned	total = rep->ok + rep->failed;

	if (rep->failed == 0 && total > 0) {
		if (rep->out != NULL)
			fprintf(rep->out, "verified: %u check%s, all hold%s\n",
			    total, total == 1 ? "" : "s", rep->skipped ?
			    "; some not run, see skip" : "");
		return VERIFY_EXIT_OK;
	}
	if (rep->out != NULL)
		fprintf(rep->out, "NOT VERIFIED: %u of %u checks failed, "
		    "%u not run\n", rep->failed, total, rep->skipped);
	return VERIFY_EXIT_FAIL;
}

void
report_text(const char *s, size_t len, char *out, size_t outlen)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i, o = 0;
	unsigned char		c;

	for (i = 0; i < len; i++) {
		/* Room for one escape, and for "..." and the NUL after it. */
		if (o + 4 + 4 >= outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
			continue;
		}
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	out[o] = '\0';
}

void
report_hash(const merkle_hash h, char out[VERIFY_HEX_LEN])
{
	hex_encode_0x(h, MERKLE_HASH_LEN, out);
}

/* One cell of --list: untrusted text, printable, cut to width. */
static const char *
list_cell(const char *s, size_t width, char *out, size_t outlen)
{
	if (s == NULL)
		return "?";
	report_text(s, strlen(s), out, outlen < width + 1 ? outlen :
	    width + 1);
	return out;
}

void
report_list(FILE *out, const struct receipt *r)
{
	const struct rdelta	*d;
	char			 when[TIMEFMT_LEN], amt[DECIMAL_MAX];
	char			 reason[41], ref[33];
	size_t			 i;

	fprintf(out, "%8s  %-10s  %16s  %-40s  %-32s\n", "sequence", "date",
	    "amount", "reason", "referenceId");
	for (i = 0; i < r->ndeltas; i++) {
		d = &r->deltas[i];
		if (d->have & RD_CREATED)
			timefmt_rfc3339(d->created_ms, when);
		else
			snprintf(when, sizeof(when), "?");
		when[10] = '\0';			/* the date alone */
		if (d->have & RD_AMOUNT)
			decimal_format(d->amount, amt);
		else
			snprintf(amt, sizeof(amt), "?");
		if (d->have & RD_SEQ)
			fprintf(out, "%8llu", (unsigned long long)d->seq);
		else
			fprintf(out, "%8s", "?");
		fprintf(out, "  %-10s  %16s  %-40s  %-32s%s\n", when, amt,
		    list_cell(d->reason, 40, reason, sizeof(reason)),
		    d->reference_id == NULL && d->reason != NULL ? "-" :
		    list_cell(d->reference_id, 32, ref, sizeof(ref)),
		    (d->have & RD_CREATED) && r->st.usable &&
		    d->created_ms < r->st.start_ms ?
		    "  carried in (recorded before the period)" : "");
	}
	fprintf(out, "%zu deltas\n\n", r->ndeltas);
}
