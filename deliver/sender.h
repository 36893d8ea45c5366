/*
 * The sender: the process, apart from tallyd's request handling and
 * store, that makes webhook HTTP requests (`tallyd --sender`, started by
 * the courier).  It holds no secret and opens no store: it gets each
 * request ready-signed, sends it with libcurl (many at once, so a
 * receiver that hangs holds up only its own request), and answers with
 * the receiver's status.  It exits when the courier's socket closes.
 */
#ifndef TALLY_SENDER_H
#define TALLY_SENDER_H

/*
 * Serves the courier on fd until it closes; returns an exit status.
 * ca_file: CA certificates for HTTPS targets, NULL for the system's.
 */
int	sender_main(int fd, const char *ca_file);

#endif
