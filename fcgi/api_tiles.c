/*
 * The log as C2SP tlog-tiles (core/tiles.h): the newest head as a bare
 * signed note, and the tree's tiles, public and read-only, with the
 * cache lifetimes the spec asks for: a full tile never changes, a
 * partial one is replaced by wider ones, the checkpoint moves with
 * every head.  Errors stay no-store (server.c): a tile not there yet
 * may be there in a second.
 */
#include <stdlib.h>
#include <string.h>

#include "../core/tiles.h"
#include "../core/tlog.h"
#include "api.h"

#define API_TILES_FULL_CACHE	"public, max-age=31536000, immutable"
/*
 * The checkpoint, and a partial tile: its hashes never change either,
 * but a log may drop it once the full tile exists (the spec allows it,
 * and a storage that writes tiles as files may): kept a few seconds.
 */
#define API_TILES_EDGE_CACHE	"public, max-age=5"

void
api_log_note(struct ctx *c)
{
	struct store_sth	 head;
	char			*body;
	size_t			 len;

	switch (tlog_head_latest(c->app->store, &head)) {
	case TLOG_OK:
		break;
	case TLOG_NO_HEAD:
		response_error(c->resp, API_NOT_FOUND, NULL, NULL,
		    "no tree head has been signed yet");
		return;
	default:
		api_unavailable(c);
		return;
	}
	len = strlen(head.note);
	if ((body = malloc(len + 1)) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	memcpy(body, head.note, len + 1);
	response_body(c->resp, 200, "text/plain; charset=utf-8", body, len);
	response_header(c->resp, "Cache-Control", API_TILES_EDGE_CACHE);
}

void
api_log_tile(struct ctx *c)
{
	struct tiles_ref	 ref;
	uint8_t			*body;

	/* entries/... too: leaf data is never served (SPEC 4.2). */
	if (tiles_path_parse(c->match.params[0], &ref) < 0) {
		response_error(c->resp, API_NOT_FOUND, NULL, NULL,
		    "no such tile: tile/<L>/<N>[.p/<W>] as C2SP tlog-tiles "
		    "spells it");
		return;
	}
	if ((body = malloc(TILES_FULL_LEN)) == NULL) {
		response_out_of_memory(c->resp);
		return;
	}
	switch (tiles_read(c->app->store, &ref, body)) {
	case TILES_OK:
		response_body(c->resp, 200, "application/octet-stream",
		    (char *)body, (size_t)ref.width * STORE_HASH_LEN);
		response_header(c->resp, "Cache-Control", ref.width ==
		    TILES_WIDTH ? API_TILES_FULL_CACHE : API_TILES_EDGE_CACHE);
		return;
	case TILES_NO_HEAD:
	case TILES_BEYOND_HEAD:
		response_error(c->resp, API_NOT_FOUND, NULL, NULL,
		    "the newest signed tree head does not hold this tile");
		break;
	default:
		api_unavailable(c);
	}
	free(body);
}
