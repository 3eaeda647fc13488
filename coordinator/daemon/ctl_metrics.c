/*
 * The Prometheus text: `chorusctl metrics` and the HTTP endpoint serve the
 * same families, built here from the core's views and the executors' counts.
 */
#include "config.h"

#include "daemon/ctl_private.h"

static void ctl_metrics_control(FILE *f, const struct control *ctl)
{
	struct control_stats st;

	if (ctl == NULL)
		return;
	control_stats_get(ctl, &st);
	fprintf(f, "# HELP chorus_control_clients Control socket clients connected.\n"
		   "# TYPE chorus_control_clients gauge\n"
		   "chorus_control_clients{class=\"admin\"} %u\n"
		   "chorus_control_clients{class=\"read\"} %u\n",
		st.clients_admin, st.clients_read);
	fprintf(f, "# HELP chorus_control_refused_total Control socket connections refused.\n"
		   "# TYPE chorus_control_refused_total counter\n"
		   "chorus_control_refused_total{reason=\"permission\"} %" PRIu64 "\n"
		   "chorus_control_refused_total{reason=\"busy\"} %" PRIu64 "\n"
		   "chorus_control_refused_total{reason=\"uid_limit\"} %" PRIu64 "\n",
		st.refused_permission, st.refused_busy, st.refused_uid);
	fprintf(f, "# HELP chorus_control_closed_total Control socket clients the daemon closed.\n"
		   "# TYPE chorus_control_closed_total counter\n"
		   "chorus_control_closed_total{reason=\"request_timeout\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"idle\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"not_reading\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"bad_requests\"} %" PRIu64 "\n"
		   "chorus_control_closed_total{reason=\"oversized\"} %" PRIu64 "\n",
		st.closed_request_timeout, st.closed_idle, st.closed_not_reading,
		st.closed_bad_requests, st.closed_oversized);
}

/* A label value in the text format: backslash, quote and newline escaped
 * (node names come from corosync.conf, scopes from plugins). */
static void label_put(FILE *f, const char *v)
{
	for (; v != NULL && *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void metrics_more(struct chorusd *d, FILE *f)
{
	struct plugin_host *h = health_host(d);
	uint64_t ok = 0, failed = 0;
	char nb[32];

	fprintf(f, "# HELP chorus_build_info The running chorusd.\n# TYPE chorus_build_info gauge\n"
		   "chorus_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	fprintf(f, "# HELP chorus_check_state A health check on this node: 0 ok, 1 degraded, "
		   "2 failed.\n# TYPE chorus_check_state gauge\n");
	for (size_t i = 0; h && i < plugin_host_scope_count(h); i++) {
		struct plugin_scope_view v;

		plugin_host_scope_get(h, i, &v);
		fputs("chorus_check_state{scope=\"", f);
		label_put(f, v.scope);
		fputs("\",plugin=\"", f);
		label_put(f, v.plugin);
		fprintf(f, "\"} %d\n", v.health <= 2 ? (int)v.health : 2);
	}
	if (d->ctl->notify != NULL) {
		struct notify_counts nc;

		notify_counts_get(d->ctl->notify, &nc);
		fprintf(f, "# HELP chorus_notify_runs_total Runs of the notification command.\n"
			   "# TYPE chorus_notify_runs_total counter\nchorus_notify_runs_total %" PRIu64
			   "\n# HELP chorus_notify_failed_total Runs that did not exit 0.\n"
			   "# TYPE chorus_notify_failed_total counter\nchorus_notify_failed_total %"
			   PRIu64 "\n# HELP chorus_notify_dropped_total Events dropped: the command "
			   "could not keep up.\n# TYPE chorus_notify_dropped_total counter\n"
			   "chorus_notify_dropped_total %" PRIu64 "\n", nc.run, nc.failed, nc.dropped);
	}
	if (d->conf->n_bricks) {
		bricks_fence_counts(d, &ok, &failed);
		fprintf(f, "# HELP chorus_fences_total Fence commands this node ran, by result.\n"
			   "# TYPE chorus_fences_total counter\n"
			   "chorus_fences_total{result=\"ok\"} %" PRIu64 "\n"
			   "chorus_fences_total{result=\"failed\"} %" PRIu64 "\n", ok, failed);
	}
	fprintf(f, "# HELP chorus_node_state A node as this node sees it, 1 for its state.\n"
		   "# TYPE chorus_node_state gauge\n");
	for (size_t i = 0; d->core && i < core_node_count(d->core); i++) {
		struct core_node_view v;

		core_node_get(d->core, i, &v);
		fprintf(f, "chorus_node_state{node=\"%" PRIu32 "\",name=\"", v.nodeid);
		label_put(f, ctl_node_name(d, v.nodeid, nb, sizeof(nb)));
		fprintf(f, "\",state=\"%s\"} 1\n", ctl_state_name(v.state));
	}
}

/* The metrics in Prometheus's text format, malloc'd (chorusctl metrics and
 * the scrape endpoint). */
char *ctl_metrics_text(struct chorusd *d, size_t *len)
{
	struct ctl_state *s = d->ctl;
	struct core_counters k = {0};
	struct core_admin_view av = {0};
	size_t unplaced;
	struct json_object *vips = ctl_vips_json(d, &unplaced);
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (d->core) {
		core_counters_get(d->core, &k);
		core_admin_get(d->core, &av);
	}
	if (f != NULL) {
#define M(name, type, help, fmt, ...)                                                              \
	fprintf(f, "# HELP chorus_" name " " help "\n# TYPE chorus_" name " " type "\n"           \
		   "chorus_" name " " fmt "\n", __VA_ARGS__)
		M("members", "gauge", "Members of the current view.", "%zu",
		  d->core ? core_member_count(d->core) : (size_t)0);
		M("quorate", "gauge", "1 if this node is quorate for its view.", "%d",
		  d->core && core_quorate(d->core) ? 1 : 0);
		M("generation", "gauge", "Operator state generation.", "%" PRIu64, av.generation);
		M("config_drift_nodes", "gauge",
		  "Members whose chorus.json differs from this node's in a cluster-wide key.",
		  "%zu", s->n_drift);
		M("resources", "gauge", "Resources in the replicated table.", "%zu",
		  d->core ? core_res_count(d->core) : (size_t)0);
		M("resources_unplaced", "gauge", "Resources no eligible node can host.", "%zu",
		  unplaced);
		M("rounds_total", "counter", "Completed membership rounds.", "%" PRIu64,
		  k.rounds_completed);
		M("placement_moves_total", "counter", "Resources moved by placement.", "%" PRIu64,
		  k.moves);
		M("messages_dropped_stale_total", "counter", "Messages dropped for a stale view.",
		  "%" PRIu64, k.dropped_stale);
		M("messages_dropped_bad_total", "counter", "Malformed messages dropped.",
		  "%" PRIu64, k.dropped_bad);
		M("members_excluded_total", "counter", "Members excluded for silence.", "%" PRIu64,
		  k.excluded);
		M("members_suspected_total", "counter",
		  "Members excluded because their daemon fell silent while the ring delivered.",
		  "%" PRIu64, k.suspected);
		M("loop_stalls_total", "counter",
		  "Times this daemon did not run for more than 1.5 heartbeats.", "%" PRIu64,
		  k.stalls);
		M("self_releases_total", "counter",
		  "Times corosync delivered nothing past the quiet limit: released everything.",
		  "%" PRIu64, k.self_releases);
		M("self_released_seconds_total", "counter",
		  "Time spent released that way, summed.", "%.3f",
		  k.self_releases_total_ms / 1000.0);
		M("expiry_probes_total", "counter",
		  "Probes of the segment for an address a frozen or lost node may still hold.",
		  "%" PRIu64, k.probes);
		M("expiry_probe_takes_total", "counter",
		  "Addresses taken early because nobody answered such a probe.", "%" PRIu64,
		  k.probe_takes);
		M("leave_only_placements_total", "counter",
		  "Membership changes in which members only left, placed before their round.",
		  "%" PRIu64, k.fast_changes);
		M("leave_only_overruled_total", "counter",
		  "Resources such a placement gave that the confirming round gave elsewhere.",
		  "%" PRIu64, k.fast_disagree);
		M("corosync_silence_max_seconds", "gauge",
		  "Longest time corosync delivered nothing while in a view (compare quiet_limit).",
		  "%.3f", k.silence_max_ms / 1000.0);
		M("heartbeat_seconds", "gauge", "Heartbeat derived from corosync's token.", "%.3f",
		  d->timing.heartbeat_ms / 1000.0);
		M("quiet_limit_seconds", "gauge",
		  "Silence from corosync after which this node releases everything.", "%.3f",
		  d->timing.quiet_limit_ms / 1000.0);
		M("address_lifetime_seconds", "gauge", "Kernel lifetime of this node's addresses.",
		  "%u", d->timing.lifetime_s);
		M("messages_dropped_hold_total", "counter",
		  "Messages dropped from senders past their budget while a round was open.",
		  "%" PRIu64, k.dropped_hold);
		M("hold_cuts_total", "counter",
		  "Senders cut for passing their budget while a round was open.", "%" PRIu64,
		  k.hold_cuts);
		{
			uint64_t bad, refused;
			size_t held;

			tickle_counters(d->tk, &bad, &refused, &held);
			M("conns_lists_bad_total", "counter",
			  "Malformed connection lists dropped.", "%" PRIu64, bad);
			M("conns_lists_refused_total", "counter",
			  "Connection lists refused for passing a per-sender or total cap.",
			  "%" PRIu64, refused);
			M("conns_remote", "gauge", "Client connections other nodes listed here.",
			  "%zu", held);
		}
		M("send_queue_depth", "gauge", "Messages waiting for corosync.", "%zu",
		  d->cl ? cluster_queue_depth(d->cl) : (size_t)0);
		M("last_failover_seconds", "gauge",
		  "Membership change to this node's addresses settled.", "%.3f",
		  s->last_failover_ms >= 0 ? (double)s->last_failover_ms / 1000.0 : 0.0);
#undef M
		fprintf(f, "# HELP chorus_messages_sent_total CPG messages this node multicast, "
			   "by type.\n# TYPE chorus_messages_sent_total counter\n");
		for (unsigned t = 1; t <= WIRE_TYPE_MAX && t < CORE_MSG_TYPES; t++)
			fprintf(f, "chorus_messages_sent_total{type=\"%s\"} %" PRIu64 "\n",
				wire_type_name(t), k.sent[t]);
		fprintf(f, "# HELP chorus_message_bytes_sent_total Bytes of those messages, by "
			   "type.\n# TYPE chorus_message_bytes_sent_total counter\n");
		for (unsigned t = 1; t <= WIRE_TYPE_MAX && t < CORE_MSG_TYPES; t++)
			fprintf(f, "chorus_message_bytes_sent_total{type=\"%s\"} %" PRIu64 "\n",
				wire_type_name(t), k.sent_bytes[t]);
		ctl_metrics_control(f, s->ctl);
		fprintf(f, "# HELP chorus_node_vips Addresses the table gives each node.\n"
			   "# TYPE chorus_node_vips gauge\n");
		for (size_t i = 0; d->core && i < core_node_count(d->core); i++) {
			struct core_node_view v;
			char nb[32];

			core_node_get(d->core, i, &v);
			fprintf(f, "chorus_node_vips{node=\"%" PRIu32 "\",name=\"", v.nodeid);
			label_put(f, ctl_node_name(d, v.nodeid, nb, sizeof(nb)));
			fprintf(f, "\"} %zu\n", v.owned);
		}
		metrics_more(d, f);
		if (fclose(f) != 0) {
			free(buf);
			buf = NULL;
		}
	}
	json_object_put(vips);
	*len = buf ? size : 0;
	return buf;
}

char *ctl_metrics_text_cb(void *ud, size_t *len)
{
	return ctl_metrics_text(ud, len);
}

struct json_object *ctl_metrics_json(struct chorusd *d)
{
	struct json_object *r = json_object_new_object();
	size_t len;
	char *buf = ctl_metrics_text(d, &len);

	json_object_object_add(r, "text", json_object_new_string(buf ? buf : ""));
	free(buf);
	return r;
}
