/*
 * tallyd as a CGI program, for a host that offers nothing else (Apache
 * mod_cgid, nginx with fcgiwrap, lighttpd mod_cgi): one request per
 * process, the same application as FastCGI's, and the background work
 * a process per request can still do.
 */
#ifndef TALLY_CGI_H
#define TALLY_CGI_H

/*
 * Serves the request in the environment and on stdin (server_cgi), then
 * signs a head over what waits for one (see cgi.c).  The configuration
 * is $TALLY_CONFIG, else CONF_DEFAULT_PATH: a CGI program's arguments
 * are the web server's (RFC 3875 4.4), never tallyd's.  Returns 1 when
 * it cannot start (no configuration, no user); once the store is open
 * the process ends in it, without exit handlers (cgi.c: cgi_leave).
 */
int	cgi_main(void);

#endif
