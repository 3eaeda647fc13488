/*
 * Tickle ACKs and connection resets: see tickle.h for the protocol.
 *
 * Everything runs on the daemon's loop: the collection is a non-blocking
 * netlink dump (conntrack.c), the sends are non-blocking raw sockets, the
 * repeats are loop timers.  Nothing here changes what the core decides;
 * a failure only costs clients the quick reconnect.
 */
#include "config.h"

#include "exec/tickle.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>
#include <qb/qbutil.h>

#include "adapters/conf.h"
#include "core/wire.h"
#include "exec/connlist.h"
#include "exec/conntrack.h"

#define TICKLE_WINDOW 1234	/* any value: the client only checks sequence */
/* What peers' lists may hold here in all, whatever they send: a node lists
 * only the VIPs it holds, so real clusters stay far below (~5 MB at most).
 * One sender may hold half of it, so a member that lists junk (a broken or
 * hostile one) cannot crowd out the others' lists. */
#define TICKLE_REMOTE_MAX 262144u
#define TICKLE_REMOTE_SENDER_MAX (TICKLE_REMOTE_MAX / 2)

static uint64_t mono_ms(void)
{
	return qb_util_nano_current_get() / QB_TIME_NS_IN_MSEC;
}

struct remote_list {
	uint32_t node;
	uint32_t n;
	struct wire_conn *v;
};

struct vip_conns {
	struct connlist mine;
	struct conntrack_sock *socks;	/* last snapshot, for SOCK_DESTROY */
	size_t n_socks;
	bool dirty;		/* our listed set changed since we sent it */
	bool reported;		/* peers may hold a non-empty list from us */
	struct remote_list *remote;	/* what other nodes listed, <= CHORUS_MAX_NODES */
	size_t n_remote;
};

struct burst {
	struct res_addr vip;
	uint32_t n;
	struct wire_conn *v;
	uint32_t left;
};

struct tickle {
	qb_loop_t *loop;
	const struct chorus_conf *conf;
	uint64_t incarnation;
	struct tickle_ops ops;
	const struct conf_conns *cfg;
	size_t n;
	struct vip_conns *v;
	size_t *map;		/* collection's local index -> vip index */
	struct conntrack *ct;
	int raw4, raw6;
	qb_loop_timer_handle collect_timer;
	uint64_t last_send_ms;
	struct burst *bursts;
	size_t n_bursts;
	qb_loop_timer_handle burst_timer;
	bool burst_armed;
	bool no_destroy;	/* the kernel refused SOCK_DESTROY once: stop trying */
	size_t n_remote_conns;	/* sum over every remote list, <= TICKLE_REMOTE_MAX */
	struct {		/* the same per sender, <= TICKLE_REMOTE_SENDER_MAX */
		uint32_t node;
		size_t n;
	} senders[CHORUS_MAX_NODES];
	size_t n_senders;
	uint64_t n_bad, n_refused, n_collect_err;
	struct wire_buf wb;
};

/* ---- raw TCP ACKs ---- */

static uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)(b[len - 1] << 8);
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void tcp_fill(struct tcphdr *th, const struct wire_conn *c)
{
	memset(th, 0, sizeof(*th));
	th->source = htons(c->vport);
	th->dest = htons(c->cport);
	th->doff = sizeof(*th) / 4;
	th->ack = 1;
	th->window = htons(TICKLE_WINDOW);
	/* seq and ack_seq stay 0: out of window on purpose */
}

/* Send one tickle ACK from 'vip':vport to client:cport.  Returns 0 or -errno. */
static int tickle_send(struct tickle *t, const struct res_addr *vip, const struct wire_conn *c)
{
	uint8_t pkt[sizeof(struct ip6_hdr) + sizeof(struct tcphdr)];
	uint8_t pseudo[40];
	uint32_t sum;
	ssize_t r;

	memset(pkt, 0, sizeof(pkt));
	if (vip->family == 4) {
		struct iphdr *ip = (struct iphdr *)pkt;
		struct tcphdr *th = (struct tcphdr *)(pkt + sizeof(*ip));
		struct sockaddr_in to = {.sin_family = AF_INET};

		if (t->raw4 < 0)
			return -EAFNOSUPPORT;
		ip->version = 4;
		ip->ihl = sizeof(*ip) / 4;
		ip->tot_len = htons(sizeof(*ip) + sizeof(*th));
		ip->frag_off = htons(IP_DF);
		ip->ttl = 64;
		ip->protocol = IPPROTO_TCP;
		memcpy(&ip->saddr, vip->bytes, 4);
		memcpy(&ip->daddr, c->client, 4);
		tcp_fill(th, c);
		memcpy(pseudo, vip->bytes, 4);
		memcpy(pseudo + 4, c->client, 4);
		pseudo[8] = 0;
		pseudo[9] = IPPROTO_TCP;
		pseudo[10] = 0;
		pseudo[11] = sizeof(*th);
		sum = csum_add(csum_add(0, pseudo, 12), th, sizeof(*th));
		th->check = csum_fold(sum);
		memcpy(&to.sin_addr, c->client, 4);
		r = sendto(t->raw4, pkt, sizeof(*ip) + sizeof(*th), MSG_DONTWAIT,
			   (struct sockaddr *)&to, sizeof(to));
	} else {
		struct ip6_hdr *ip = (struct ip6_hdr *)pkt;
		struct tcphdr *th = (struct tcphdr *)(pkt + sizeof(*ip));
		struct sockaddr_in6 to = {.sin6_family = AF_INET6};

		if (t->raw6 < 0)
			return -EAFNOSUPPORT;
		ip->ip6_flow = htonl(6u << 28);
		ip->ip6_plen = htons(sizeof(*th));
		ip->ip6_nxt = IPPROTO_TCP;
		ip->ip6_hlim = 64;
		memcpy(&ip->ip6_src, vip->bytes, 16);
		memcpy(&ip->ip6_dst, c->client, 16);
		tcp_fill(th, c);
		memset(pseudo, 0, sizeof(pseudo));
		memcpy(pseudo, vip->bytes, 16);
		memcpy(pseudo + 16, c->client, 16);
		pseudo[35] = sizeof(*th);
		pseudo[39] = IPPROTO_TCP;
		sum = csum_add(csum_add(0, pseudo, 40), th, sizeof(*th));
		th->check = csum_fold(sum);
		memcpy(&to.sin6_addr, c->client, 16);
		r = sendto(t->raw6, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&to,
			   sizeof(to));
	}
	return r < 0 ? -errno : 0;
}

static void burst_round(struct tickle *t);

static void burst_fire(void *data)
{
	struct tickle *t = data;

	t->burst_armed = false;
	burst_round(t);
}

/* Send one round of every pending burst, drop the finished ones, and come
 * back in TICKLE_INTERVAL_MS while any is left. */
static void burst_round(struct tickle *t)
{
	size_t k = 0;

	for (size_t i = 0; i < t->n_bursts; i++) {
		struct burst *b = &t->bursts[i];
		uint32_t failed = 0;
		int err = 0;

		for (uint32_t c = 0; c < b->n; c++) {
			int rc = tickle_send(t, &b->vip, &b->v[c]);

			if (rc < 0) {
				failed++;
				err = rc;
			}
		}
		if (failed)
			qb_log(LOG_DEBUG, "tickle: %" PRIu32 " of %" PRIu32 " ACKs not sent " QB_XS
			       " rc=%d", failed, b->n, err);
		if (--b->left == 0)
			free(b->v);
		else
			t->bursts[k++] = *b;
	}
	t->n_bursts = k;
	if (k && !t->burst_armed)
		t->burst_armed = qb_loop_timer_add(t->loop, QB_LOOP_HIGH,
						   TICKLE_INTERVAL_MS * QB_TIME_NS_IN_MSEC, t,
						   burst_fire, &t->burst_timer) == 0;
}

/* ---- what other nodes listed ---- */

/* Index of 'node' in t->senders, or -1. */
static long sender_find(const struct tickle *t, uint32_t node)
{
	for (size_t i = 0; i < t->n_senders; i++)
		if (t->senders[i].node == node)
			return (long)i;
	return -1;
}

/* Account 'was' -> 'now' connections to 'node' in both totals; a sender
 * with nothing left frees its slot.  A new sender needs a free slot, which
 * remote_set() checked. */
static void remote_account(struct tickle *t, uint32_t node, size_t was, size_t now)
{
	long k = sender_find(t, node);

	t->n_remote_conns = t->n_remote_conns - was + now;
	if (k < 0) {
		if (now == 0 || t->n_senders == CHORUS_MAX_NODES)
			return;
		k = (long)t->n_senders++;
		t->senders[k].node = node;
		t->senders[k].n = 0;
	}
	t->senders[k].n = t->senders[k].n - was + now;
	if (t->senders[k].n == 0)
		t->senders[k] = t->senders[--t->n_senders];
}

static void remote_drop_all(struct tickle *t, struct vip_conns *vc)
{
	for (size_t i = 0; i < vc->n_remote; i++) {
		remote_account(t, vc->remote[i].node, vc->remote[i].n, 0);
		free(vc->remote[i].v);
	}
	free(vc->remote);
	vc->remote = NULL;
	vc->n_remote = 0;
}

static long vip_find(const struct tickle *t, const struct res_addr *a)
{
	/* the config keeps them sorted by res_addr_cmp */
	long k = RES_ADDR_SEARCH(t->conf->vips, t->n, addr, a);

	return k >= 0 ? k : -1;
}

/* Replace what 'node' listed for local VIP 'idx'.  'b' is borrowed. */
static int remote_set(struct tickle *t, size_t idx, uint32_t node, const struct wire_conns_vip *b)
{
	struct vip_conns *vc = &t->v[idx];
	struct remote_list *r = NULL;
	struct wire_conn *copy = NULL;
	size_t i;

	for (i = 0; i < vc->n_remote; i++)
		if (vc->remote[i].node == node)
			r = &vc->remote[i];
	if (b->n == 0) {
		if (r != NULL) {
			remote_account(t, node, r->n, 0);
			free(r->v);
			*r = vc->remote[--vc->n_remote];
		}
		return 0;
	}
	{
		long k = sender_find(t, node);
		size_t was = r ? r->n : 0, mine = k >= 0 ? t->senders[k].n : 0;

		if (t->n_remote_conns - was + b->n > TICKLE_REMOTE_MAX ||
		    mine - was + b->n > TICKLE_REMOTE_SENDER_MAX ||
		    (k < 0 && t->n_senders == CHORUS_MAX_NODES))
			return -ENOSPC;
	}
	copy = malloc(b->n * sizeof(*copy));
	if (copy == NULL)
		return -ENOMEM;
	memcpy(copy, b->conns, b->n * sizeof(*copy));
	if (r == NULL) {
		struct remote_list *nv;

		if (vc->n_remote >= CHORUS_MAX_NODES) {
			free(copy);
			return -ENOSPC;
		}
		nv = realloc(vc->remote, (vc->n_remote + 1) * sizeof(*nv));
		if (nv == NULL) {
			free(copy);
			return -ENOMEM;
		}
		vc->remote = nv;
		r = &vc->remote[vc->n_remote++];
		r->node = node;
		r->v = NULL;
		r->n = 0;
	}
	free(r->v);
	remote_account(t, node, r->n, b->n);
	r->v = copy;
	r->n = b->n;
	return 0;
}

bool tickle_deliver(struct tickle *t, uint32_t nodeid, const void *buf, size_t size)
{
	struct wire_conns cs;
	struct wire_hdr h;
	int rc;

	if (wire_decode_hdr(buf, size, &h) < 0 || h.type != WIRE_CONNS)
		return false;
	if (nodeid == t->ops.nodeid(t->ops.ud))
		return true;	/* our own, back from CPG */
	rc = wire_decode_conns(buf, size, &cs);
	if (rc < 0) {
		t->n_bad++;
		if (t->n_bad <= 5 || t->n_bad % 1000 == 0)
			qb_log(LOG_WARNING, "dropped connection list from node %" PRIu32 " " QB_XS
			       " rc=%d total=%" PRIu64, nodeid, rc, t->n_bad);
		return true;
	}
	for (uint32_t i = 0; i < cs.n_vips; i++) {
		long idx = vip_find(t, &cs.vips[i].vip);
		char a[CHORUS_ADDR_STRLEN];

		if (idx < 0)
			continue;	/* a VIP we can never take over */
		rc = remote_set(t, (size_t)idx, nodeid, &cs.vips[i]);
		res_addr_format_ip(&cs.vips[i].vip, a, sizeof(a));
		if (rc < 0 && (++t->n_refused <= 5 || t->n_refused % 1000 == 0))
			qb_log(LOG_WARNING, "cannot keep node %" PRIu32 "'s %" PRIu32 " connection(s) "
			       "on %s" QB_XS " rc=%d total=%" PRIu64, nodeid, cs.vips[i].n, a, rc,
			       t->n_refused);
		else if (rc == 0)
			qb_log(LOG_DEBUG, "conns: node %" PRIu32 " lists %" PRIu32 " connection(s) "
			       "on %s", nodeid, cs.vips[i].n, a);
	}
	wire_conns_clear(&cs);
	return true;
}

/* ---- our own lists ---- */

/* Multicast the lists that changed, split so no message passes the per-
 * message caps, at most once per update_ms.  What cannot be sent now stays
 * dirty for the next collection. */
static void send_lists(struct tickle *t)
{
	struct wire_conns_vip blocks[WIRE_CONNS_MAX_VIPS];
	struct wire_conns cs = {0, blocks};
	struct wire_conn *scratch = NULL;
	uint64_t now = mono_ms();
	uint32_t total = 0, sent_vips = 0, sent_conns = 0;
	size_t first = 0, i;
	bool any = false;

	for (i = 0; i < t->n && !any; i++)
		any = t->v[i].dirty && (t->v[i].mine.n || t->v[i].reported);
	if (!any || t->ops.proto(t->ops.ud) < 3)
		return;
	if (t->last_send_ms && now - t->last_send_ms < t->cfg->update_ms)
		return;
	scratch = calloc((size_t)WIRE_CONNS_MAX_MSG + 1, sizeof(*scratch));
	if (scratch == NULL)
		return;
	for (i = 0; i <= t->n; i++) {
		struct vip_conns *vc = i < t->n ? &t->v[i] : NULL;
		uint32_t n = vc ? (uint32_t)connlist_count(&vc->mine) : 0;

		if (vc && !(vc->dirty && (n || vc->reported)))
			continue;
		/* flush before this block would overflow the message, and at the end */
		if (cs.n_vips && (vc == NULL || cs.n_vips == WIRE_CONNS_MAX_VIPS ||
				  total + n > WIRE_CONNS_MAX_MSG)) {
			int rc = wire_encode_conns(&t->wb, 3, t->incarnation, &cs);

			if (rc == 0)
				rc = t->ops.send(t->ops.ud, t->wb.data, t->wb.size);
			if (rc < 0) {
				qb_log(LOG_DEBUG, "conns: cannot send " QB_XS " rc=%d", rc);
				goto out;
			}
			for (size_t k = first; k < i; k++) {
				if (!t->v[k].dirty)
					continue;
				t->v[k].reported = connlist_count(&t->v[k].mine) > 0;
				t->v[k].dirty = false;
			}
			sent_vips += cs.n_vips;
			sent_conns += total;
			cs.n_vips = 0;
			total = 0;
			first = i;
		}
		if (vc == NULL)
			break;
		blocks[cs.n_vips].vip = t->conf->vips[i].addr;
		blocks[cs.n_vips].n = n;
		blocks[cs.n_vips].conns = scratch + total;
		for (uint32_t k = 0; k < n; k++)
			scratch[total + k] = connlist_listed(&vc->mine)[k].c;
		total += n;
		cs.n_vips++;
	}
	t->last_send_ms = now;
	qb_log(LOG_DEBUG, "conns: sent %" PRIu32 " list(s), %" PRIu32 " connection(s)",
	       sent_vips, sent_conns);
out:
	free(scratch);
}

static void collect_done(void *ud, int err, const struct conntrack_sock *socks, size_t n,
			 size_t n_over)
{
	struct tickle *t = ud;
	size_t *count = NULL;

	if (err < 0) {
		t->n_collect_err++;
		if (t->n_collect_err <= 3 || t->n_collect_err % 1000 == 0)
			qb_log(LOG_WARNING, "cannot collect TCP connections " QB_XS " rc=%d total=%"
			       PRIu64, err, t->n_collect_err);
		return;
	}
	if (n_over)
		qb_log(LOG_DEBUG, "conns: %zu connection(s) beyond the collector's cap", n_over);
	count = calloc(t->n + 1, sizeof(*count));
	if (count == NULL)
		return;
	for (size_t k = 0; k < n; k++)
		count[t->map[socks[k].local_idx]]++;
	for (size_t i = 0; i < t->n; i++) {
		struct vip_conns *vc = &t->v[i];
		struct wire_conn *cl = NULL;
		size_t m = 0, dropped = 0;
		int rc;

		if (!t->ops.held(t->ops.ud, i)) {
			if (connlist_count(&vc->mine))
				vc->dirty = true;
			connlist_clear(&vc->mine);
			free(vc->socks);
			vc->socks = NULL;
			vc->n_socks = 0;
			continue;
		}
		free(vc->socks);
		vc->socks = count[i] ? calloc(count[i], sizeof(*vc->socks)) : NULL;
		cl = count[i] ? calloc(count[i], sizeof(*cl)) : NULL;
		vc->n_socks = 0;
		if (count[i] && (vc->socks == NULL || cl == NULL)) {
			free(cl);
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			if (t->map[socks[k].local_idx] != i)
				continue;
			vc->socks[vc->n_socks++] = socks[k];
			memcpy(cl[m].client, socks[k].remote.bytes, 16);
			cl[m].vport = socks[k].lport;
			cl[m].cport = socks[k].rport;
			m++;
		}
		rc = connlist_update(&vc->mine, cl, m, &dropped);
		free(cl);
		if (rc > 0) {
			char a[CHORUS_ADDR_STRLEN];

			vc->dirty = true;
			res_addr_format_ip(&t->conf->vips[i].addr, a, sizeof(a));
			qb_log(LOG_DEBUG, "conns: %s has %zu connection(s), listing %zu (%zu dropped, "
			       "oldest first)", a, m, connlist_count(&vc->mine), dropped);
		}
	}
	send_lists(t);
	free(count);
}

static void collect_start(void *data)
{
	struct tickle *t = data;
	struct res_addr *locals = calloc(t->n + 1, sizeof(*locals));
	size_t n = 0;
	int rc;

	if (qb_loop_timer_add(t->loop, QB_LOOP_LOW,
			      (uint64_t)t->cfg->collect_ms * QB_TIME_NS_IN_MSEC, t, collect_start,
			      &t->collect_timer) != 0)
		qb_log(LOG_ERR, "conns: cannot schedule the next collection");
	if (locals == NULL)
		return;
	for (size_t i = 0; i < t->n; i++) {
		if (t->ops.held(t->ops.ud, i)) {
			t->map[n] = i;
			locals[n++] = t->conf->vips[i].addr;
		}
	}
	rc = conntrack_collect(t->ct, locals, n, t->cfg->collect_ms, collect_done, t);
	if (rc < 0 && rc != -EBUSY)
		qb_log(LOG_DEBUG, "conns: cannot start a collection " QB_XS " rc=%d", rc);
	free(locals);
}

void tickle_confchg(struct tickle *t, size_t n_joined)
{
	if (t == NULL || n_joined == 0)
		return;
	for (size_t i = 0; i < t->n; i++)
		if (connlist_count(&t->v[i].mine))
			t->v[i].dirty = true;
}

/* ---- moves ---- */

void tickle_acquired(struct tickle *t, size_t idx)
{
	struct vip_conns *vc;
	uint32_t self;

	if (t == NULL || idx >= t->n)
		return;
	vc = &t->v[idx];
	self = t->ops.nodeid(t->ops.ud);
	for (size_t i = 0; t->cfg->tickle && i < vc->n_remote; i++) {
		struct remote_list *r = &vc->remote[i];
		struct burst *nb;
		char a[CHORUS_ADDR_STRLEN];

		if (r->node == self || r->n == 0)
			continue;
		nb = realloc(t->bursts, (t->n_bursts + 1) * sizeof(*nb));
		if (nb == NULL)
			break;
		t->bursts = nb;
		t->bursts[t->n_bursts++] = (struct burst){t->conf->vips[idx].addr, r->n, r->v,
							  TICKLE_ROUNDS};
		r->v = NULL;	/* the burst owns it now; r->n is uncounted below */
		res_addr_format_ip(&t->conf->vips[idx].addr, a, sizeof(a));
		qb_log(LOG_NOTICE, "%s: tickling %" PRIu32 " client connection(s) node %" PRIu32
		       " listed", a, r->n, r->node);
	}
	remote_drop_all(t, vc);	/* used (or not wanted): they describe the past */
	if (t->n_bursts && !t->burst_armed)
		burst_round(t);
}

void tickle_releasing(struct tickle *t, size_t idx)
{
	struct vip_conns *vc;
	size_t done = 0, gone = 0;
	int err = 0;

	if (t == NULL || idx >= t->n)
		return;
	vc = &t->v[idx];
	for (size_t i = 0; t->cfg->reset_on_release && !t->no_destroy && i < vc->n_socks; i++) {
		int rc = conntrack_destroy(t->ct, &vc->socks[i]);

		if (rc == 0) {
			done++;
		} else if (rc == -ENOENT) {
			gone++;
		} else if (rc == -EOPNOTSUPP || rc == -EPERM) {
			t->no_destroy = true;
			qb_log(LOG_WARNING, "the kernel refuses SOCK_DESTROY (%s): clients of a "
			       "released address are reset by the new owner's tickle ACKs instead",
			       strerror(-rc));
		} else {
			err = rc;
		}
	}
	if (done || err) {
		char a[CHORUS_ADDR_STRLEN];

		res_addr_format_ip(&t->conf->vips[idx].addr, a, sizeof(a));
		qb_log(LOG_NOTICE, "%s: reset %zu client connection(s) before release (%zu already "
		       "gone)" QB_XS " err=%d", a, done, gone, err);
	}
	if (connlist_count(&vc->mine))
		vc->dirty = true;
	connlist_clear(&vc->mine);
	free(vc->socks);
	vc->socks = NULL;
	vc->n_socks = 0;
}

/* ---- life cycle ---- */

int tickle_new(qb_loop_t *loop, const struct chorus_conf *conf, uint64_t incarnation,
	       const struct tickle_ops *ops, struct tickle **out)
{
	struct tickle *t = calloc(1, sizeof(*t));
	bool want4 = false, want6 = false;
	int rc;

	if (t == NULL)
		return -ENOMEM;
	t->loop = loop;
	t->conf = conf;
	t->incarnation = incarnation;
	t->ops = *ops;
	t->cfg = &conf->conns;
	t->n = conf->n_vips;
	t->raw4 = t->raw6 = -1;
	wire_buf_init(&t->wb);
	t->v = calloc(t->n + 1, sizeof(*t->v));
	t->map = calloc(t->n + 1, sizeof(*t->map));
	if (t->v == NULL || t->map == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	for (size_t i = 0; i < t->n; i++) {
		connlist_init(&t->v[i].mine, t->cfg->max_per_vip);
		want4 |= conf->vips[i].addr.family == 4;
		want6 |= conf->vips[i].addr.family == 6;
	}
	rc = conntrack_new(loop, &t->ct);
	if (rc < 0)
		goto out_free;
	/* IPPROTO_RAW: we write the IP header ourselves (the VIP as source) */
	if (want4)
		t->raw4 = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	if (want6)
		t->raw6 = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);
	if ((want4 && t->raw4 < 0) || (want6 && t->raw6 < 0))
		qb_log(LOG_WARNING, "cannot open a raw socket for tickle ACKs " QB_XS " errno=%d",
		       errno);
	qb_loop_timer_add(loop, QB_LOOP_LOW, (uint64_t)t->cfg->collect_ms * QB_TIME_NS_IN_MSEC,
			  t, collect_start, &t->collect_timer);
	*out = t;
	return 0;

out_free:
	free(t->v);
	free(t->map);
	free(t);
	return rc;
}

void tickle_free(struct tickle *t)
{
	if (t == NULL)
		return;
	qb_loop_timer_del(t->loop, t->collect_timer);
	if (t->burst_armed)
		qb_loop_timer_del(t->loop, t->burst_timer);
	conntrack_free(t->ct);
	for (size_t i = 0; i < t->n; i++) {
		connlist_clear(&t->v[i].mine);
		free(t->v[i].socks);
		remote_drop_all(t, &t->v[i]);
	}
	for (size_t i = 0; i < t->n_bursts; i++)
		free(t->bursts[i].v);
	free(t->bursts);
	if (t->raw4 >= 0)
		close(t->raw4);
	if (t->raw6 >= 0)
		close(t->raw6);
	wire_buf_release(&t->wb);
	free(t->v);
	free(t->map);
	free(t);
}

void tickle_counters(const struct tickle *t, uint64_t *bad, uint64_t *refused, size_t *held)
{
	*bad = t ? t->n_bad : 0;
	*refused = t ? t->n_refused : 0;
	*held = t ? t->n_remote_conns : 0;
}
