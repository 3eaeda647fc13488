/*
 * cpg_peer: an extra, misbehaving member of a chorus CPG group, for tests.
 *
 *   cpg_peer [options] GROUP silent|flood|garbage
 *
 *   silent   join and dispatch, never send: a wedged daemon, an incompatible
 *            build, or any process that joined the group name.  Every
 *            chorusd sees it as a member that never sends STATE.
 *   flood    send messages with a valid chorus wire header (magic, version,
 *            type, body size, reserved 0, token, a random incarnation) and a
 *            body of -s bytes, -r per second: the body is random bytes,
 *            zeros, or (-b valid) the largest body of that type that the
 *            decoder accepts within -s bytes, built by the real encoder.
 *   garbage  send -s random bytes (no header) at -r per second.
 *
 * Options:
 *   -s BYTES    body size (flood) or message size (garbage); default the
 *               largest body chorusd accepts (WIRE_MSG_MAX - header)
 *   -r RATE     messages per second; 0 = as fast as corosync takes them
 *               (default 10)
 *   -d SECONDS  stop after this long; 0 = until SIGTERM/SIGINT (default 0)
 *   -t TYPE     flood: wire type, a name (RELEASED, ADMIN, LOAD, ...) or a
 *               number (default RELEASED)
 *   -V VERSION  flood: header version (default 1)
 *   -T TOKEN    flood: header token, decimal or 0x hex (default 0)
 *   -b BODY     flood: random | zero | valid (default random)
 *   -A VIPS     flood -t CONNS -b valid: comma-separated VIPs (ADDR/PREFIX)
 *               to list connections for, -n per VIP; the lists are split
 *               into messages within the per-message caps and sent in turn
 *   -n COUNT    connections listed per VIP (default 1024, the wire's cap)
 *
 * It must run with the node's corosync IPC at hand: in the node's network
 * namespace with the node's private /run (tests/integration/lib.sh,
 * cl_cpg_peer_start).  It exits cleanly on SIGTERM or SIGINT (cpg_leave,
 * cpg_finalize) or after -d, and prints one line of what it did:
 *   cpg_peer group=G mode=M nodeid=N pid=P sent=N sent_bytes=B try_again=T
 *   delivered=D own_delivered=O confchgs=C members=M gap_max_ms=G elapsed_ms=E
 * gap_max_ms is the longest time corosync delivered nothing to it (message
 * or confchg) once it had joined: "garbage -s 8 -r 20" in a group of its own
 * measures corosync's silences during a fault without touching chorusd.
 * Exit status 0, 1 on a CPG error, 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <corosync/corotypes.h>
#include <corosync/cpg.h>

#include "core/wire.h"

enum mode { M_SILENT, M_FLOOD, M_GARBAGE };

struct msg {
	uint8_t *buf;
	size_t size;
};

/* What is sent, in turn; built once before joining. */
static struct msg *msgs;
static size_t n_msgs;

static int msgs_add(const uint8_t *buf, size_t size)
{
	struct msg *v = realloc(msgs, (n_msgs + 1) * sizeof(*v));

	if (v == NULL)
		return -ENOMEM;
	msgs = v;
	msgs[n_msgs].buf = malloc(size + 1);
	if (msgs[n_msgs].buf == NULL)
		return -ENOMEM;
	memcpy(msgs[n_msgs].buf, buf, size);
	msgs[n_msgs++].size = size;
	return 0;
}
enum body { B_RANDOM, B_ZERO, B_VALID };

struct peer {
	cpg_handle_t h;
	struct cpg_name group;
	uint32_t nodeid;
	uint32_t pid;
	uint64_t delivered;
	uint64_t own_delivered;
	uint64_t confchgs;
	size_t members;
	bool joined;		/* our own join came back in a confchg */
	uint64_t last_us;	/* last delivery of anything, once joined */
	uint64_t gap_max_us;
};

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64*: fast enough to fill megabytes per message */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void fill_random(uint8_t *p, size_t n)
{
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t v = rng_next();

		memcpy(p + i, &v, 8);
	}
	if (i < n) {
		uint64_t v = rng_next();

		memcpy(p + i, &v, n - i);
	}
}

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void delivered(struct peer *p)
{
	uint64_t now = mono_us();

	if (p->last_us && now - p->last_us > p->gap_max_us)
		p->gap_max_us = now - p->last_us;
	if (p->joined)
		p->last_us = now;
}

static struct peer *peer_of(cpg_handle_t h)
{
	void *ctx = NULL;

	if (cpg_context_get(h, &ctx) != CS_OK)
		return NULL;
	return ctx;
}

static void deliver_cb(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
		       uint32_t pid, void *msg, size_t len)
{
	struct peer *p = peer_of(h);

	(void)group;
	(void)msg;
	(void)len;
	if (p == NULL)
		return;
	p->delivered++;
	if (nodeid == p->nodeid && pid == p->pid)
		p->own_delivered++;
	delivered(p);
}

static void confchg_cb(cpg_handle_t h, const struct cpg_name *group,
		       const struct cpg_address *members, size_t n_members,
		       const struct cpg_address *left, size_t n_left,
		       const struct cpg_address *joined, size_t n_joined)
{
	struct peer *p = peer_of(h);

	(void)group;
	(void)left;
	(void)n_left;
	(void)joined;
	(void)n_joined;
	if (p == NULL)
		return;
	p->confchgs++;
	p->members = n_members;
	for (size_t i = 0; i < n_members; i++)
		if (members[i].nodeid == p->nodeid && members[i].pid == p->pid)
			p->joined = true;
	delivered(p);
}

/* Header fields as wire.h lays them out, little-endian. */
static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_hdr(uint8_t *p, uint16_t version, uint16_t type, uint32_t body,
		    uint64_t token, uint64_t incarnation)
{
	put_le(p, WIRE_MAGIC, 4);
	put_le(p + 4, version, 2);
	put_le(p + 6, type, 2);
	put_le(p + 8, body, 4);
	put_le(p + 12, 0, 4);
	put_le(p + 16, token, 8);
	put_le(p + 24, incarnation, 8);
}

static int type_parse(const char *s, uint16_t *out)
{
	char *end;
	unsigned long v;

	for (uint16_t t = 1; t <= WIRE_TYPE_MAX; t++)
		if (strcasecmp(s, wire_type_name(t)) == 0) {
			*out = t;
			return 0;
		}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v > UINT16_MAX)
		return -EINVAL;
	*out = (uint16_t)v;	/* any number: hostile peers send unknown types too */
	return 0;
}

/* Distinct canonical IPv4 /32 addresses in 198.18.0.0/15 (benchmarking,
 * RFC 2544), never a VIP of a test. */
static void addr_fill(struct res_addr *a, uint32_t i)
{
	uint32_t v = (198u << 24) | (18u << 16) | (i & 0x1ffffu);

	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->prefix = 32;
	a->bytes[0] = (uint8_t)(v >> 24);
	a->bytes[1] = (uint8_t)(v >> 16);
	a->bytes[2] = (uint8_t)(v >> 8);
	a->bytes[3] = (uint8_t)v;
}

/*
 * The largest body of 'type' the decoder accepts within 'size' bytes,
 * encoded by wire.c itself so it stays valid whatever the layout becomes.
 * Counts are capped by the decoder's limits, so a valid body may be
 * smaller than asked.
 */
static int build_valid(struct wire_buf *b, uint16_t version, uint16_t type, size_t size,
		       uint64_t token, uint64_t incarnation)
{
	int rc;

	if (type == WIRE_LOAD) {
		struct wire_load ld = {0};
		size_t n = size > 4 ? (size - 4) / 26 : 0;

		if (n > WIRE_MAX_RES)
			n = WIRE_MAX_RES;
		ld.n = (uint32_t)n;
		ld.ents = calloc(n + 1, sizeof(*ld.ents));
		if (ld.ents == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < ld.n; i++) {
			addr_fill(&ld.ents[i].addr, i);
			ld.ents[i].load = i;
		}
		rc = wire_encode_load(b, token, incarnation, &ld);
		free(ld.ents);
		return rc;
	}
	if (type == WIRE_STATE) {
		struct wire_state st = {0};
		char pools[1][CHORUS_NAME_MAX] = {"flood"};
		size_t fixed = 2 + 2 + 4 + 8 + 1 + 4 + 4 + 4 + 1 + 5 + 4 + 4 + 4 + 4;
		size_t n = size > fixed ? (size - fixed) / 20 : 0;

		if (n > WIRE_MAX_RES)
			n = WIRE_MAX_RES;
		st.proto_max = version;
		st.n_pools = 1;
		st.pools = pools;
		st.n_decl = (uint32_t)n;
		st.decl = calloc(n + 1, sizeof(*st.decl));
		if (st.decl == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < st.n_decl; i++)
			addr_fill(&st.decl[i].addr, i);
		rc = wire_encode_state(b, version, token, incarnation, &st);
		free(st.decl);
		return rc;
	}
	if (type >= 1 && type <= WIRE_TYPE_MAX && type != WIRE_CONNS) {
		struct wire_small sm = {0};
		size_t n = size > 12 ? (size - 12) / 18 : 0;

		if (n > WIRE_MAX_RES)
			n = WIRE_MAX_RES;
		sm.n_addrs = (uint32_t)n;
		sm.addrs = calloc(n + 1, sizeof(*sm.addrs));
		if (sm.addrs == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < sm.n_addrs; i++)
			addr_fill(&sm.addrs[i], i);
		rc = wire_encode_small(b, version, type, token, incarnation, &sm);
		free(sm.addrs);
		return rc;
	}
	return -EINVAL;
}

/*
 * CONNS naming 'per_vip' made-up clients (198.18.0.0/15) on each of the
 * IPv4 VIPs in 'list', split so no message passes the decoder's caps;
 * every message is valid and all are kept in msgs[].
 */
static int build_conns(uint16_t version, uint64_t incarnation, const char *list,
		       uint32_t per_vip)
{
	struct wire_conns_vip blocks[WIRE_CONNS_MAX_VIPS];
	struct wire_conns cs = {0, blocks};
	struct wire_conn *conns = calloc(per_vip + 1, sizeof(*conns));
	char *copy = strdup(list), *save = NULL, *tok;
	uint32_t total = 0;
	struct wire_buf b;
	int rc = 0;

	if (conns == NULL || copy == NULL || per_vip == 0 || per_vip > WIRE_CONNS_MAX_PER_VIP) {
		free(conns);
		free(copy);
		return conns == NULL || copy == NULL ? -ENOMEM : -EINVAL;
	}
	for (uint32_t k = 0; k < per_vip; k++) {
		conns[k].client[0] = 198;
		conns[k].client[1] = 18;
		conns[k].client[2] = (uint8_t)(k >> 8);
		conns[k].client[3] = (uint8_t)k;
		conns[k].vport = 2049;
		conns[k].cport = (uint16_t)(1024 + k);
	}
	wire_buf_init(&b);
	for (tok = strtok_r(copy, ",", &save); rc == 0; tok = strtok_r(NULL, ",", &save)) {
		if (cs.n_vips && (tok == NULL || cs.n_vips == WIRE_CONNS_MAX_VIPS ||
				  total + per_vip > WIRE_CONNS_MAX_MSG)) {
			rc = wire_encode_conns(&b, version, incarnation, &cs);
			if (rc == 0)
				rc = msgs_add(b.data, b.size);
			cs.n_vips = 0;
			total = 0;
		}
		if (tok == NULL || rc < 0)
			break;
		if (res_addr_parse(tok, &blocks[cs.n_vips].vip) < 0) {
			fprintf(stderr, "cpg_peer: -A: not an address with a prefix: %s\n", tok);
			rc = -EINVAL;
			break;
		}
		if (blocks[cs.n_vips].vip.family != 4) {
			fprintf(stderr, "cpg_peer: -A: IPv4 VIPs only: %s\n", tok);
			rc = -EINVAL;
			break;
		}
		blocks[cs.n_vips].n = per_vip;
		blocks[cs.n_vips].conns = conns;	/* IPv4 clients, zero-padded */
		total += per_vip;
		cs.n_vips++;
	}
	wire_buf_release(&b);
	free(conns);
	free(copy);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cpg_peer [-s BYTES] [-r RATE] [-d SECONDS] [-t TYPE] [-V VERSION]\n"
		   "                [-T TOKEN] [-b random|zero|valid] [-A VIP,... [-n COUNT]]\n"
		   "                GROUP silent|flood|garbage\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || end == s || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int main(int argc, char **argv)
{
	static struct peer p;
	cpg_model_v1_data_t model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = deliver_cb,
		.cpg_confchg_fn = confchg_cb,
	};
	uint64_t size = WIRE_MSG_MAX - WIRE_HDR_SIZE, rate = 10, duration_s = 0, token = 0;
	uint64_t version = 1, incarnation = 0, sent = 0, sent_bytes = 0, try_again = 0;
	uint16_t type = WIRE_RELEASED;
	enum body body = B_RANDOM;
	enum mode mode;
	uint8_t *msg = NULL;
	size_t msg_size = 0, next_msg = 0;
	const char *conns_vips = NULL;
	uint64_t per_vip = WIRE_CONNS_MAX_PER_VIP;
	struct wire_buf wb;
	uint64_t t0, next_send, deadline = 0;
	sigset_t sigs;
	int sfd = -1, cfd = -1, opt, rc = 1;
	cs_error_t err;
	unsigned int local_nodeid = 0;
	const char *stop = "signal";

	wire_buf_init(&wb);
	while ((opt = getopt(argc, argv, "s:r:d:t:V:T:b:A:n:h")) != -1) {
		switch (opt) {
		case 's':
			if (parse_u64(optarg, 64u << 20, &size) < 0)
				goto bad_usage;
			break;
		case 'r':
			if (parse_u64(optarg, 1000000, &rate) < 0)
				goto bad_usage;
			break;
		case 'd':
			if (parse_u64(optarg, 86400 * 365, &duration_s) < 0)
				goto bad_usage;
			break;
		case 't':
			if (type_parse(optarg, &type) < 0)
				goto bad_usage;
			break;
		case 'V':
			if (parse_u64(optarg, UINT16_MAX, &version) < 0)
				goto bad_usage;
			break;
		case 'T':
			if (parse_u64(optarg, UINT64_MAX, &token) < 0)
				goto bad_usage;
			break;
		case 'b':
			if (strcmp(optarg, "random") == 0)
				body = B_RANDOM;
			else if (strcmp(optarg, "zero") == 0)
				body = B_ZERO;
			else if (strcmp(optarg, "valid") == 0)
				body = B_VALID;
			else
				goto bad_usage;
			break;
		case 'A':
			conns_vips = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, WIRE_CONNS_MAX_PER_VIP, &per_vip) < 0 || per_vip == 0)
				goto bad_usage;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad_usage;
		}
	}
	if (argc - optind != 2)
		goto bad_usage;
	if (strlen(argv[optind]) == 0 || strlen(argv[optind]) >= CPG_MAX_NAME_LENGTH)
		goto bad_usage;
	if (strcmp(argv[optind + 1], "silent") == 0)
		mode = M_SILENT;
	else if (strcmp(argv[optind + 1], "flood") == 0)
		mode = M_FLOOD;
	else if (strcmp(argv[optind + 1], "garbage") == 0)
		mode = M_GARBAGE;
	else
		goto bad_usage;
	/* the same convention as chorusd: the length excludes the NUL */
	p.group.length = (uint32_t)strlen(argv[optind]);
	memcpy(p.group.value, argv[optind], p.group.length);

	if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state) || rng_state == 0)
		rng_state = (uint64_t)getpid() * 0x9e3779b97f4a7c15ull + mono_us();
	incarnation = rng_next() | 1;

	/* The messages never change: build them once. */
	if (mode == M_FLOOD && body == B_VALID && type == WIRE_CONNS) {
		int e = conns_vips ? build_conns((uint16_t)version, incarnation, conns_vips,
						 (uint32_t)per_vip) : -EINVAL;

		if (e < 0 || n_msgs == 0) {
			fprintf(stderr, "cpg_peer: cannot build CONNS lists (-A VIP,...): %s\n",
				strerror(e < 0 ? -e : EINVAL));
			goto out;
		}
	} else if (mode == M_FLOOD && body == B_VALID) {
		int e = build_valid(&wb, (uint16_t)version, type, (size_t)size, token, incarnation);

		if (e < 0) {
			fprintf(stderr, "cpg_peer: cannot build a valid %s body: %s\n",
				wire_type_name(type), strerror(-e));
			goto out;
		}
		msg = wb.data;
		msg_size = wb.size;
	} else if (mode == M_FLOOD) {
		msg_size = WIRE_HDR_SIZE + (size_t)size;
		if (size > UINT32_MAX || (msg = calloc(1, msg_size)) == NULL)
			goto out;
		put_hdr(msg, (uint16_t)version, type, (uint32_t)size, token, incarnation);
		if (body == B_RANDOM)
			fill_random(msg + WIRE_HDR_SIZE, (size_t)size);
	} else if (mode == M_GARBAGE) {
		msg_size = (size_t)size;
		if ((msg = calloc(1, msg_size + 1)) == NULL)
			goto out;
		fill_random(msg, msg_size);
	}
	if (msg != NULL && msgs_add(msg, msg_size) < 0)
		goto out;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	if (sigprocmask(SIG_BLOCK, &sigs, NULL) < 0 ||
	    (sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		perror("cpg_peer: signalfd");
		goto out;
	}

	err = cpg_model_initialize(&p.h, CPG_MODEL_V1, (cpg_model_data_t *)&model, &p);
	if (err != CS_OK) {
		fprintf(stderr, "cpg_peer: cpg_model_initialize: error %d\n", err);
		p.h = 0;
		goto out;
	}
	if (cpg_fd_get(p.h, &cfd) != CS_OK || cpg_local_get(p.h, &local_nodeid) != CS_OK) {
		fprintf(stderr, "cpg_peer: cannot read the CPG fd or node id\n");
		goto out;
	}
	p.nodeid = local_nodeid;
	p.pid = (uint32_t)getpid();
	/* TRY_AGAIN while corosync syncs: bounded retries, 10 ms apart */
	for (int i = 0; i < 500; i++) {
		err = cpg_join(p.h, &p.group);
		if (err != CS_ERR_TRY_AGAIN)
			break;
		usleep(10000);
	}
	if (err != CS_OK) {
		fprintf(stderr, "cpg_peer: cpg_join: error %d\n", err);
		goto out;
	}

	/* times in microseconds, so rates above 1000/s pace evenly too */
	t0 = mono_us();
	next_send = t0;
	if (duration_s)
		deadline = t0 + duration_s * 1000000u;
	for (;;) {
		struct pollfd pfd[2] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		uint64_t now = mono_us(), wait_us = UINT64_MAX;

		if (deadline && now >= deadline) {
			stop = "duration";
			break;
		}
		/* send what is due; pace by the clock, and never burst to
		 * catch up after a slow ring */
		while (mode != M_SILENT && p.joined && now >= next_send) {
			struct iovec iov = {.iov_base = msgs[next_msg].buf,
					    .iov_len = msgs[next_msg].size};

			err = cpg_mcast_joined(p.h, CPG_TYPE_AGREED, &iov, 1);
			if (err == CS_ERR_TRY_AGAIN) {
				try_again++;
				next_send = now + 10000;
				break;
			}
			if (err != CS_OK) {
				fprintf(stderr, "cpg_peer: cpg_mcast_joined: error %d\n", err);
				stop = "error";
				goto leave;
			}
			sent++;
			sent_bytes += msgs[next_msg].size;
			next_msg = (next_msg + 1) % n_msgs;
			if (rate == 0) {
				next_send = now;
				break;	/* dispatch between sends: our own come back */
			}
			next_send += 1000000u / rate;
			if (next_send + 1000000u < now)
				next_send = now;
		}
		if (mode != M_SILENT && p.joined)
			wait_us = next_send > now ? next_send - now : 0;
		if (deadline && deadline - now < wait_us)
			wait_us = deadline - now;
		if (wait_us > 1000000u)
			wait_us = 1000000u;	/* poll's int milliseconds */
		if (poll(pfd, 2, (int)((wait_us + 999) / 1000)) < 0 &&
		    errno != EINTR) {
			perror("cpg_peer: poll");
			stop = "error";
			goto leave;
		}
		if (pfd[1].revents & POLLIN)
			break;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			err = cpg_dispatch(p.h, CS_DISPATCH_ALL);
			if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
				fprintf(stderr, "cpg_peer: cpg_dispatch: error %d\n", err);
				stop = "error";
				goto leave;
			}
		}
	}
	rc = 0;
leave:
	cpg_leave(p.h, &p.group);
	printf("cpg_peer group=%.*s mode=%s nodeid=%" PRIu32 " pid=%" PRIu32 " sent=%" PRIu64
	       " sent_bytes=%" PRIu64 " try_again=%" PRIu64 " delivered=%" PRIu64
	       " own_delivered=%" PRIu64 " confchgs=%" PRIu64 " members=%zu gap_max_ms=%" PRIu64
	       " elapsed_ms=%" PRIu64 " stop=%s\n",
	       (int)p.group.length, p.group.value, argv[optind + 1], p.nodeid, p.pid, sent,
	       sent_bytes, try_again, p.delivered, p.own_delivered, p.confchgs, p.members,
	       p.gap_max_us / 1000u, (mono_us() - t0) / 1000u, stop);
	fflush(stdout);
out:
	if (p.h)
		cpg_finalize(p.h);
	if (sfd >= 0)
		close(sfd);
	if (msg != wb.data)
		free(msg);
	wire_buf_release(&wb);
	for (size_t i = 0; i < n_msgs; i++)
		free(msgs[i].buf);
	free(msgs);
	return rc;
bad_usage:
	usage(stderr);
	wire_buf_release(&wb);
	return 2;
}
