#include <sys/prctl.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "../common/log.h"
#include "../common/netaddr.h"
#include "sender.h"
#include "wire.h"

static const char	*ca_file;	/* NULL: the system's CAs */

/* One request in flight; owns the job's bytes until it ends. */
struct transfer {
	struct transfer		*next, **prevp;	/* every one in flight */
	CURL			*easy;
	struct curl_slist	*headers;
	uint64_t		 id;
	int			 allow_private;
	int			 refused;	/* the address was not public */
	char			 errbuf[CURL_ERROR_SIZE];
	uint8_t			 msg[];
};

static struct transfer	*inflight;

static size_t
discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	(void)arg;
	return size * n;
}

/* Judged on the address resolved, so a DNS name cannot smuggle one in. */
static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct transfer	*tr = arg;

	(void)purpose;
	if (!tr->allow_private && !netaddr_public(&a->addr)) {
		tr->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void
transfer_free(CURLM *multi, struct transfer *tr)
{
	if ((*tr->prevp = tr->next) != NULL)
		tr->next->prevp = tr->prevp;
	curl_multi_remove_handle(multi, tr->easy);
	curl_easy_cleanup(tr->easy);
	curl_slist_free_all(tr->headers);
	free(tr);
}

static int
transfer_setup(struct transfer *tr, const struct wire_job *j)
{
	struct curl_slist	*l;
	CURL			*e = tr->easy;
	size_t			 i;

	tr->headers = curl_slist_append(NULL, "Content-Type: application/json");
	/* No "Expect: 100-continue" round trip before the body. */
	tr->headers = curl_slist_append(tr->headers, "Expect:");
	for (i = 0; i < j->nheaders && tr->headers != NULL; i++)
		if ((l = curl_slist_append(tr->headers, j->headers[i])) != NULL)
			tr->headers = l;
	if (tr->headers == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_PRIVATE, tr);
	curl_easy_setopt(e, CURLOPT_URL, j->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* Environment proxies would bypass the address check. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "Tally-Webhooks/1");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, tr->headers);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)j->body_len);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, tr);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, tr->errbuf);
	if (ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, ca_file);
	return 0;
}

static int
send_result(int fd, uint64_t id, int code, const char *error)
{
	struct wire_result	r;
	uint8_t			buf[WIRE_RESULT_MAX];
	size_t			len;

	r.id = id;
	r.code = code;
	snprintf(r.error, sizeof(r.error), "%s", error);
	len = wire_result_encode(&r, buf, sizeof(buf));
	return send(fd, buf, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* Starts one job; a job that cannot start is answered at once. */
static int
start(CURLM *multi, int fd, const uint8_t *msg, size_t len)
{
	struct transfer	*tr;
	struct wire_job	 j;

	if ((tr = calloc(1, sizeof(*tr) + len)) == NULL)
		return -1;
	memcpy(tr->msg, msg, len);
	if (wire_job_decode(tr->msg, len, &j) < 0) {
		free(tr);
		log_error("sender: malformed job");
		return -1;
	}
	tr->id = j.id;
	tr->allow_private = j.allow_private;
	if ((tr->next = inflight) != NULL)
		inflight->prevp = &tr->next;
	tr->prevp = &inflight;
	inflight = tr;
	if ((tr->easy = curl_easy_init()) == NULL ||
	    transfer_setup(tr, &j) < 0 ||
	    curl_multi_add_handle(multi, tr->easy) != CURLM_OK) {
		transfer_free(multi, tr);
		return send_result(fd, j.id, 0, "out of memory");
	}
	return 0;
}

static int
finish(CURLM *multi, int fd, CURLMsg *m)
{
	struct transfer	*tr;
	const char	*why;
	long		 code = 0;
	int		 rc;

	curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&tr);
	if (m->data.result == CURLE_OK)
		curl_easy_getinfo(tr->easy, CURLINFO_RESPONSE_CODE, &code);
	if (m->data.result == CURLE_OK)
		why = "";
	else if (tr->refused)
		why = "the address is not public (webhook_allow_private)";
	else
		why = tr->errbuf[0] ? tr->errbuf :
		    curl_easy_strerror(m->data.result);
	rc = send_result(fd, tr->id, (int)code, why);
	transfer_free(multi, tr);
	return rc;
}

/* Takes every job waiting on fd; 1 when the courier has gone. */
static int
take_jobs(CURLM *multi, int fd)
{
	static uint8_t	buf[WIRE_JOB_MAX];
	ssize_t		n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n == 0)
			return 1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : 1;
		if ((size_t)n > sizeof(buf)) {
			log_error("sender: oversize job dropped");
			continue;
		}
		if (start(multi, fd, buf, (size_t)n) < 0)
			return 1;
	}
}

int
sender_main(int fd, const char *cas)
{
	struct curl_waitfd	 wfd;
	CURLM			*multi;
	CURLMsg			*m;
	int			 running, left, gone = 0;

	/* Nothing of tallyd's but the courier's socket and stdio. */
	closefrom(fd + 1);
	/* Spawned from /proc/self/exe, it would show as "exe" in ps. */
	prctl(PR_SET_NAME, "tallyd-sender");
	ca_file = cas;
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
	    (multi = curl_multi_init()) == NULL) {
		log_error("sender: cannot start libcurl");
		return 1;
	}
	while (!gone) {
		wfd.fd = fd;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		if (curl_multi_poll(multi, &wfd, 1, 1000, NULL) != CURLM_OK)
			break;
		if (wfd.revents != 0)
			gone = take_jobs(multi, fd);
		curl_multi_perform(multi, &running);
		while ((m = curl_multi_info_read(multi, &left)) != NULL)
			if (m->msg == CURLMSG_DONE && finish(multi, fd, m) < 0)
				gone = 1;
	}
	while (inflight != NULL)
		transfer_free(multi, inflight);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	return 0;
}
