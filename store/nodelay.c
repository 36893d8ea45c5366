/*
 * connect() and accept() of this program: the C library's, after which
 * a TCP socket gets TCP_NODELAY (nodelay.h says why).  The real ones are
 * found with dlsym(RTLD_NEXT), once per thread's first call; a failure
 * to set the option is left to nodelay_missing to report.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

#include "nodelay.h"

typedef int	(*connect_fn)(int, const struct sockaddr *, socklen_t);
typedef int	(*accept_fn)(int, struct sockaddr *, socklen_t *);

static int	nodelay_failing_fast;	/* atomic */

void
nodelay_fail_fast(void)
{
	__atomic_store_n(&nodelay_failing_fast, 1, __ATOMIC_RELEASE);
}

static void
nodelay_set(int fd, sa_family_t family)
{
	int		on = 1, syncnt = 1;
	unsigned	timeout = NODELAY_USER_TIMEOUT_MS;

	if (family != AF_INET && family != AF_INET6)
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (!__atomic_load_n(&nodelay_failing_fast, __ATOMIC_ACQUIRE))
		return;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt,
	    sizeof(syncnt));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout,
	    sizeof(timeout));
}

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static connect_fn	real;

	if (real == NULL && (real = (connect_fn)dlsym(RTLD_NEXT,
	    "connect")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if (sa != NULL && len >= sizeof(sa_family_t))
		nodelay_set(fd, sa->sa_family);
	return real(fd, sa, len);
}

int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	static accept_fn	real;
	struct sockaddr_storage	ss;
	socklen_t		sslen = sizeof(ss);
	int			cfd;

	if (real == NULL && (real = (accept_fn)dlsym(RTLD_NEXT,
	    "accept")) == NULL) {
		errno = ENOSYS;
		return -1;
	}
	if ((cfd = real(fd, sa, len)) >= 0 &&
	    getsockname(cfd, (struct sockaddr *)&ss, &sslen) == 0)
		nodelay_set(cfd, ss.ss_family);
	return cfd;
}

/* fd is a connected TCP socket without TCP_NODELAY. */
static int
nodelay_lacks(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);
	int			type = 0, on = 0;
	socklen_t		tlen = sizeof(type), olen = sizeof(on);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0 ||
	    type != SOCK_STREAM ||
	    getpeername(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return 0;
	return getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &olen) == 0 &&
	    on == 0;
}

int
nodelay_missing(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' && nodelay_lacks(atoi(e->d_name)))
			n++;
	closedir(d);
	return n;
}
