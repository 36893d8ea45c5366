/*
 * The FastCGI side: a listening socket, and a pool of threads that each
 * accept a connection, read the request into plain data, hand it to the
 * application, and write the answer back.  Threads, not processes, so
 * that concurrent commits share log flushes in one Berkeley DB
 * environment.  And the CGI side, for a host that offers nothing else:
 * one request, read from the process's environment and stdin.
 */
#ifndef TALLY_SERVER_H
#define TALLY_SERVER_H

#include <stddef.h>

struct app;

/*
 * Opens the socket named by spec: "unix:/path" (created with mode;
 * a stale socket file is replaced, a live one refused), "HOST:PORT", or
 * "stdin" for the socket a web server passes on fd 0.  A unix socket
 * is given to group, unless it is NULL or "".  Returns the descriptor,
 * or -1 after logging why.
 */
int	server_listen(const char *spec, unsigned mode, const char *group);
/*
 * Serves until SIGTERM or SIGINT, then lets in-flight requests finish
 * and returns 0.  A connection that keeps a thread waiting read_timeout
 * seconds for the rest of a record is closed.  The caller must have blocked those signals (see
 * server_block_signals) before starting any thread.
 */
int	server_run(int fd, int threads, int read_timeout, struct app *);
void	server_block_signals(void);
/*
 * Serves the one request of a CGI process (RFC 3875): its parameters
 * are the environment, its body CONTENT_LENGTH bytes of stdin, and the
 * answer goes to stdout, headed by a CGI Status header, through the
 * same request and response as FastCGI's.  Then stdin and stdout are
 * closed (/dev/null takes their place), so that the web server is done
 * with the request before the caller does more.  Returns 0, or -1 if the
 * answer could not be written whole.
 */
int	server_cgi(struct app *);
/*
 * Writes a whole answer to fd as FastCGI request id's records: head then
 * body as FCGI_STDOUT records of up to 65,528 bytes each, straight from
 * where they are, then the stream's end and FCGI_END_REQUEST (status 0),
 * with one writev per 16 records.  A derive page (~53 KB) is so one
 * system call, where libfcgi's stream copied it into its 8 KiB buffer
 * and wrote it a record at a time: 7 writes, as many wake-ups of the web
 * server.  Returns 0, or -1 if a write failed.
 */
int	server_records(int fd, int id, const char *head, size_t hlen,
	    const char *body, size_t blen);
/*
 * A whole answer to libfcgi's request r through server_records, its
 * streams then marked closed so that FCGX_Finish_r sends nothing more;
 * a failed write clears r's keepConnection.
 */
struct FCGX_Request;
void	server_fcgi_answer(struct FCGX_Request *r, const char *head,
	    size_t hlen, const char *body, size_t blen);

#endif
