/*
 * The operator's event history (chorusctl events): membership changes,
 * moves with their reason, quorum, operator requests.  Kept in memory for
 * queries and appended to STATE_DIR/events.jsonl, one JSON object per
 * line, so that it survives a restart; the file is bounded (rotated to
 * events.jsonl.1 past HISTORY_FILE_MAX) and read back at start.
 */
#ifndef CHORUS_DAEMON_HISTORY_H
#define CHORUS_DAEMON_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define HISTORY_MAX 4096		/* events kept in memory */
#define HISTORY_FILE_MAX (1024 * 1024)	/* bytes before rotation */

struct history;

/* 'dir' NULL or "" keeps the history in memory only.  Lines of the files
 * that do not parse (a crash mid-write) are skipped.  NULL on ENOMEM. */
struct history *history_open(const char *dir);
void history_free(struct history *h);	/* accepts NULL */

/* Record an event now; returns its JSON (owned by the caller) for
 * subscribers, or NULL on ENOMEM.  A failed write is logged once per run
 * of failures and never stops the daemon. */
struct json_object *history_add(struct history *h, uint64_t wall_ms, const char *type,
				const char *text);

/* {"events":[...]} oldest first: the last 'limit' (0 = all kept) of those
 * at or after 'since_ms' (wall clock, 0 = all). */
struct json_object *history_json(const struct history *h, size_t limit, uint64_t since_ms);

/* For tests: how many events are kept. */
size_t history_count(const struct history *h);

#endif
