/*
 * addrwatch: which network namespaces hold which addresses, sampled, with
 * the time each address spent on two or more namespaces (double) or on none
 * (down).  An instrument for failover tests: it reads the kernels, not
 * chorusd, so it sees what a client would.
 *
 *   addrwatch [options] NS...
 *   addrwatch --replay LOG [-w FROM,TO] [-k NS,...] [-o FILE] [-q] [-e]
 *
 * NS is a name under /var/run/netns (or a path such as /proc/PID/ns/net).
 * What to watch:
 *   -a ADDR[,ADDR...]  these addresses (a /prefix is ignored), on any
 *                      interface (or only on -i); repeatable
 *   -i IFACE           only addresses on IFACE; without -a, every address on
 *                      IFACE except those given with -x and IPv6 link-local
 *                      ones, each from the moment it is first seen
 *   -x ADDR[,ADDR...]  with -i and no -a: not these (the nodes' own
 *                      addresses: a VIP in a subnet of its own is "primary"
 *                      to the kernel, so that flag cannot tell them apart)
 * Sampling and output:
 *   -I MS        interval between the starts of two passes (default 10)
 *   -d SECONDS   stop after this long (default: until SIGTERM or SIGINT)
 *   -l FILE      change log; its header line is written after the first
 *                complete pass, so a script can wait for it to know the
 *                sampler is running
 *   -o FILE      summary (default stdout)
 *   -q           summary: the overall line and "lost" lines only
 *   -e           summary: every episode too, in the order they ended (at
 *                most 4 per tracked address + 1024; more are counted)
 *   -w FROM,TO   count "down" time and "lost" addresses only inside this
 *                window (epoch ms; either side may be empty)
 *   -k NS,...    report every address that was on one of these namespaces
 *                at the start of the window (or the first pass) and later
 *                left it ("lost"): survivors' addresses that must stay put
 *   -m N         at most N addresses tracked (default 4096); more are
 *                counted as dropped
 *   -R PRIO      run SCHED_FIFO at PRIO, so a busy machine does not stretch
 *                the interval
 *   --replay LOG recompute the summary from a change log written by -l
 *                (another window or -k set, after the fact)
 *
 * One pass dumps the addresses of every namespace (RTM_GETADDR) through a
 * netlink socket opened inside it once at start (a socket stays in the
 * namespace it was created in, so the process itself never stays in
 * another namespace).  The reads of one pass are not atomic: a move from
 * namespace A to B (release, then take) that happens between reading A and
 * B shows the address on both, and the opposite order shows it on none.
 * So a new double or a new down is believed only when a second pass, read
 * in the reverse order right away, shows it too (that is "confirms");
 * otherwise the address keeps its previous state until the next pass.
 *
 * Change log (stamps are CLOCK_REALTIME, epoch ms with microseconds):
 *   # addrwatch start=STAMP interval_ms=I ns=A,B,.. [addrs=X,..] [iface=IF]
 *   STAMP NS ADDR +|-            (appeared on / vanished from NS)
 *   # end=STAMP samples=N confirms=N max_gap_us=N max_pass_us=N retries=N dropped=N
 * Every change of one pass carries that pass's stamp (when it started).
 * The first pass's addresses are logged as "+" lines.
 *
 * Summary (durations in ms; an episode still open at the end runs to it):
 *   addr ADDR holders_max=N doubles=N double_ms_total=N double_ms_max=N downs=N down_ms_total=N down_ms_max=N
 *   episode ADDR double|down START END ms=N     (-e; a down clipped to -w)
 *   lost ADDR ns=NS at=STAMP
 *   addrwatch namespaces=N addrs=N samples=N confirms=N interval_ms=N max_gap_ms=N max_pass_us=N elapsed_ms=N doubles=N double_ms_total=N double_ms_max=N downs=N down_ms_total=N down_ms_max=N kept_lost=N retries=N dropped=N
 * An address given with -a and seen on no namespace at the first pass is
 * down from the first pass on.  max_gap_ms is the longest time between the
 * starts of two consecutive passes: the resolution the run really had.
 *
 * Exit status: 0 done, 1 a runtime error (a namespace, socket or dump
 * failed; a log that cannot be replayed), 2 usage.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#define MAX_NS 64
#define NS_NAME_MAX 200
#define DEF_MAX_ADDRS 4096
#define DUMP_RETRIES 3
#define RECV_BUF 65536

enum cls { C_NONE, C_ONE, C_MANY };

struct addr {
	int family;
	unsigned char raw[16];
	char str[INET6_ADDRSTRLEN];
	bool given;		/* named with -a: down from the first pass on */
	uint64_t acc;		/* holders believed now */
	uint64_t fwd;		/* holders in this pass, namespaces in order */
	uint64_t rev;		/* the confirming pass, reverse order */
	uint64_t cand;		/* what this pass commits */
	int64_t dbl_since, down_since;	/* -1: not in such an episode */
	int64_t dbl_total, dbl_max, down_total, down_max;
	unsigned dbl_n, down_n, holders_max;
	uint64_t kept;		/* keep-set namespaces it was on at the window start */
	int64_t lost_at;	/* -1: never left them */
	int lost_ns;
};

struct episode {
	uint32_t addr;		/* index into the table */
	bool dbl;		/* double, else down */
	int64_t start, end;
};

struct ns {
	char name[NS_NAME_MAX + 1];
	struct mnl_socket *nl;
	unsigned portid;
	unsigned ifindex;	/* 0: any interface */
};

struct watch {
	struct ns ns[MAX_NS];
	int nns;
	struct addr *a;
	size_t na, cap;
	uint32_t *hash;		/* index + 1, 0 empty; open addressing */
	size_t hcap;
	bool iface_mode;	/* addresses discovered, not given */
	struct addr *excl;
	size_t nexcl;
	char *iface;
	int64_t w0, w1;		/* window, epoch us */
	uint64_t keep;
	bool kept_done, first_done;
	int64_t t_first, t_last;
	uint64_t samples, confirms, retries, dropped;
	int64_t max_gap_us, max_pass_us;
	unsigned interval_ms;
	struct episode *ep;	/* -e: the episodes, at most max_ep */
	size_t nep, max_ep;
	uint64_t ep_dropped;
	FILE *log;
	unsigned seq;
	char *buf;
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int64_t clock_us(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t us_to_ms(int64_t us)
{
	return (us + 500) / 1000;
}

static void fmt_stamp(char *b, size_t n, int64_t us)
{
	snprintf(b, n, "%" PRId64 ".%03" PRId64, us / 1000, us % 1000);
}

/* "1765059429123.456" or "1765059429123" (epoch ms) -> microseconds */
static int parse_stamp(const char *s, int64_t *out)
{
	char *end;
	long long ms;
	int64_t frac = 0;
	int digits = 0;

	errno = 0;
	ms = strtoll(s, &end, 10);
	if (errno || end == s || ms < 0 || ms > INT64_MAX / 1000 - 1)
		return -1;
	if (*end == '.') {
		for (end++; *end >= '0' && *end <= '9'; end++) {
			if (digits < 3) {
				frac = frac * 10 + (*end - '0');
				digits++;
			}
		}
		for (; digits < 3; digits++)
			frac *= 10;
	}
	if (*end != '\0')
		return -1;
	*out = (int64_t)ms * 1000 + frac;
	return 0;
}

static int cls_of(uint64_t m)
{
	int c = __builtin_popcountll(m);

	return c == 0 ? C_NONE : c == 1 ? C_ONE : C_MANY;
}

/* ---- the address table ------------------------------------------------ */

static uint32_t key_hash(int family, const unsigned char *raw)
{
	uint32_t h = 2166136261u ^ (uint32_t)family;

	for (int i = 0; i < 16; i++)
		h = (h ^ raw[i]) * 16777619u;
	return h;
}

static int parse_addr(const char *s, int *family, unsigned char raw[16])
{
	char t[INET6_ADDRSTRLEN + 8];
	char *slash;

	if (strlen(s) >= sizeof(t))
		return -1;
	strcpy(t, s);
	slash = strchr(t, '/');
	if (slash)
		*slash = '\0';
	memset(raw, 0, 16);
	if (inet_pton(AF_INET, t, raw) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, t, raw) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static struct addr *addr_find(struct watch *w, int family, const unsigned char *raw)
{
	size_t mask = w->hcap - 1, i = key_hash(family, raw) & mask;

	for (; w->hash[i]; i = (i + 1) & mask) {
		struct addr *a = &w->a[w->hash[i] - 1];

		if (a->family == family && memcmp(a->raw, raw, 16) == 0)
			return a;
	}
	return NULL;
}

static struct addr *addr_add(struct watch *w, int family, const unsigned char *raw)
{
	size_t mask = w->hcap - 1, i = key_hash(family, raw) & mask;
	struct addr *a;

	if (w->na == w->cap)
		return NULL;
	a = &w->a[w->na];
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->raw, raw, 16);
	inet_ntop(family, raw, a->str, sizeof(a->str));
	a->dbl_since = a->down_since = a->lost_at = -1;
	a->lost_ns = -1;
	while (w->hash[i])
		i = (i + 1) & mask;
	w->hash[i] = (uint32_t)++w->na;
	return a;
}

static int table_init(struct watch *w, size_t cap)
{
	w->cap = cap;
	for (w->hcap = 16; w->hcap < 2 * cap; w->hcap *= 2)
		;
	w->a = calloc(cap, sizeof(*w->a));
	w->hash = calloc(w->hcap, sizeof(*w->hash));
	return w->a && w->hash ? 0 : -1;
}

/* "a,b,c" -> addresses; given (watched) or excluded */
static int add_list(struct watch *w, const char *list, bool excl)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int family;
		unsigned char raw[16];

		if (parse_addr(tok, &family, raw) < 0) {
			fprintf(stderr, "addrwatch: '%s' is not an IPv4 or IPv6 address\n", tok);
			rc = -1;
			break;
		}
		if (excl) {
			struct addr *x = realloc(w->excl, (w->nexcl + 1) * sizeof(*x));

			if (!x) {
				rc = -1;
				break;
			}
			w->excl = x;
			memset(&x[w->nexcl], 0, sizeof(*x));
			x[w->nexcl].family = family;
			memcpy(x[w->nexcl].raw, raw, 16);
			w->nexcl++;
		} else if (!addr_find(w, family, raw)) {
			struct addr *a = addr_add(w, family, raw);

			if (!a) {
				fprintf(stderr, "addrwatch: more than %zu addresses (-m)\n", w->cap);
				rc = -1;
				break;
			}
			a->given = true;
		}
	}
	free(copy);
	return rc;
}

static bool excluded(const struct watch *w, int family, const unsigned char *raw)
{
	for (size_t i = 0; i < w->nexcl; i++)
		if (w->excl[i].family == family && memcmp(w->excl[i].raw, raw, 16) == 0)
			return true;
	/* link-local IPv6: every interface has its own, none of them floats */
	return family == AF_INET6 && raw[0] == 0xfe && (raw[1] & 0xc0) == 0x80;
}

static int ns_index(const struct watch *w, const char *name)
{
	for (int i = 0; i < w->nns; i++)
		if (strcmp(w->ns[i].name, name) == 0)
			return i;
	return -1;
}

static int parse_keep(struct watch *w, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int rc = 0;

	if (!copy)
		return -1;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i = ns_index(w, tok);

		if (i < 0) {
			fprintf(stderr, "addrwatch: -k %s: not one of the watched namespaces\n", tok);
			rc = -1;
			break;
		}
		w->keep |= 1ull << i;
	}
	free(copy);
	return rc;
}

static int parse_window(struct watch *w, const char *s)
{
	const char *comma = strchr(s, ',');
	char from[32];
	size_t n;

	w->w0 = INT64_MIN;
	w->w1 = INT64_MAX;
	if (!comma || (size_t)(comma - s) >= sizeof(from))
		return -1;
	n = (size_t)(comma - s);
	memcpy(from, s, n);
	from[n] = '\0';
	if (n && parse_stamp(from, &w->w0) < 0)
		return -1;
	if (comma[1] && parse_stamp(comma + 1, &w->w1) < 0)
		return -1;
	return w->w0 <= w->w1 ? 0 : -1;
}

/* ---- accounting ---------------------------------------------------------- */

static void record(struct watch *w, const struct addr *a, bool dbl, int64_t s, int64_t e)
{
	if (!w->ep)
		return;
	if (w->nep == w->max_ep) {
		w->ep_dropped++;
		return;
	}
	w->ep[w->nep++] = (struct episode){(uint32_t)(a - w->a), dbl, s, e};
}

static void close_down(struct watch *w, struct addr *a, int64_t end)
{
	int64_t s = a->down_since > w->w0 ? a->down_since : w->w0;
	int64_t e = end < w->w1 ? end : w->w1;

	a->down_since = -1;
	if (e <= s)
		return;
	record(w, a, false, s, e);
	a->down_n++;
	a->down_total += e - s;
	if (e - s > a->down_max)
		a->down_max = e - s;
}

static void close_double(struct watch *w, struct addr *a, int64_t end)
{
	int64_t d = end - a->dbl_since;

	record(w, a, true, a->dbl_since, end);
	a->dbl_since = -1;
	a->dbl_n++;
	a->dbl_total += d;
	if (d > a->dbl_max)
		a->dbl_max = d;
}

static void log_changes(struct watch *w, const struct addr *a, uint64_t old, uint64_t now,
			const char *stamp)
{
	uint64_t diff = old ^ now;

	if (!w->log)
		return;
	for (int i = 0; diff; i++, diff >>= 1)
		if (diff & 1)
			fprintf(w->log, "%s %s %s %c\n", stamp, w->ns[i].name, a->str,
				now >> i & 1 ? '+' : '-');
}

/* One pass's verdict for every address, stamped T. */
static void commit(struct watch *w, int64_t t)
{
	char stamp[32];
	bool first = !w->first_done;

	fmt_stamp(stamp, sizeof(stamp), t);
	if (first) {
		w->t_first = t;
		w->first_done = true;
	}
	/* the keep set's holdings at the window start: the state just before
	 * the first pass after it (the first pass's own, if it is later) */
	if (!w->kept_done && t > w->w0) {
		for (size_t i = 0; i < w->na; i++)
			w->a[i].kept = (first ? w->a[i].cand : w->a[i].acc) & w->keep;
		w->kept_done = true;
	}
	for (size_t i = 0; i < w->na; i++) {
		struct addr *a = &w->a[i];
		uint64_t old = a->acc, now = a->cand;
		int oc = __builtin_popcountll(old), nc = __builtin_popcountll(now);

		if (first && nc == 0 && a->given)
			a->down_since = t;
		if (old == now)
			continue;
		log_changes(w, a, old, now, stamp);
		if (oc >= 2 && nc < 2)
			close_double(w, a, t);
		if (oc < 2 && nc >= 2)
			a->dbl_since = t;
		if (oc == 0 && nc > 0 && a->down_since >= 0)
			close_down(w, a, t);
		if (oc > 0 && nc == 0)
			a->down_since = t;
		if ((unsigned)nc > a->holders_max)
			a->holders_max = (unsigned)nc;
		if (w->kept_done && a->lost_at < 0 && t <= w->w1 && (a->kept & ~now)) {
			a->lost_at = t;
			a->lost_ns = __builtin_ctzll(a->kept & ~now);
		}
		a->acc = now;
	}
	w->t_last = t;
	if (w->log)
		fflush(w->log);
}

static void finish(struct watch *w)
{
	for (size_t i = 0; i < w->na; i++) {
		struct addr *a = &w->a[i];

		if (a->dbl_since >= 0)
			close_double(w, a, w->t_last);
		if (a->down_since >= 0)
			close_down(w, a, w->t_last);
	}
}

static void summary(const struct watch *w, FILE *f, bool quiet)
{
	int64_t dbl_total = 0, dbl_max = 0, down_total = 0, down_max = 0;
	unsigned dbl_n = 0, down_n = 0, lost = 0;
	char stamp[32];

	for (size_t i = 0; i < w->na; i++) {
		const struct addr *a = &w->a[i];

		dbl_total += a->dbl_total;
		down_total += a->down_total;
		dbl_n += a->dbl_n;
		down_n += a->down_n;
		if (a->dbl_max > dbl_max)
			dbl_max = a->dbl_max;
		if (a->down_max > down_max)
			down_max = a->down_max;
		if (!quiet)
			fprintf(f,
				"addr %s holders_max=%u doubles=%u double_ms_total=%" PRId64
				" double_ms_max=%" PRId64 " downs=%u down_ms_total=%" PRId64
				" down_ms_max=%" PRId64 "\n",
				a->str, a->holders_max, a->dbl_n, us_to_ms(a->dbl_total),
				us_to_ms(a->dbl_max), a->down_n, us_to_ms(a->down_total),
				us_to_ms(a->down_max));
	}
	for (size_t i = 0; i < w->nep; i++) {
		const struct episode *e = &w->ep[i];
		char s2[32];

		fmt_stamp(stamp, sizeof(stamp), e->start);
		fmt_stamp(s2, sizeof(s2), e->end);
		fprintf(f, "episode %s %s %s %s ms=%" PRId64 "\n", w->a[e->addr].str,
			e->dbl ? "double" : "down", stamp, s2, us_to_ms(e->end - e->start));
	}
	if (w->ep_dropped)
		fprintf(f, "episodes_dropped %" PRIu64 "\n", w->ep_dropped);
	for (size_t i = 0; i < w->na; i++) {
		const struct addr *a = &w->a[i];

		if (a->lost_at < 0)
			continue;
		lost++;
		fmt_stamp(stamp, sizeof(stamp), a->lost_at);
		fprintf(f, "lost %s ns=%s at=%s\n", a->str, w->ns[a->lost_ns].name, stamp);
	}
	fprintf(f,
		"addrwatch namespaces=%d addrs=%zu samples=%" PRIu64 " confirms=%" PRIu64
		" interval_ms=%u max_gap_ms=%" PRId64 " max_pass_us=%" PRId64
		" elapsed_ms=%" PRId64 " doubles=%u double_ms_total=%" PRId64
		" double_ms_max=%" PRId64 " downs=%u down_ms_total=%" PRId64
		" down_ms_max=%" PRId64 " kept_lost=%u retries=%" PRIu64 " dropped=%" PRIu64 "\n",
		w->nns, w->na, w->samples, w->confirms, w->interval_ms, us_to_ms(w->max_gap_us),
		w->max_pass_us, w->first_done ? us_to_ms(w->t_last - w->t_first) : 0,
		dbl_n, us_to_ms(dbl_total), us_to_ms(dbl_max), down_n, us_to_ms(down_total),
		us_to_ms(down_max), lost, w->retries, w->dropped);
}

/* ---- sampling ------------------------------------------------------------- */

static int ns_open(struct watch *w, struct ns *n, int self_fd)
{
	char path[PATH_MAX];
	int fd, err = 0;

	if (strchr(n->name, '/'))
		snprintf(path, sizeof(path), "%s", n->name);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", n->name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "addrwatch: namespace %s: %s: %s\n", n->name, path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "addrwatch: namespace %s: setns: %s\n", n->name, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	n->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = errno;
		fprintf(stderr, "addrwatch: namespace %s: netlink socket: %s\n", n->name,
			strerror(err));
	} else {
		n->portid = mnl_socket_get_portid(n->nl);
	}
	/* the interface index is the namespace's own: look it up while inside */
	if (!err && w->iface) {
		n->ifindex = if_nametoindex(w->iface);
		if (!n->ifindex) {
			err = errno ? errno : ENODEV;
			fprintf(stderr, "addrwatch: namespace %s: no interface %s\n", n->name,
				w->iface);
		}
	}
	if (setns(self_fd, CLONE_NEWNET) < 0) {
		/* staying in another namespace would make every later step lie */
		fprintf(stderr, "addrwatch: cannot return to our own namespace: %s\n",
			strerror(errno));
		exit(1);
	}
	return err ? -1 : 0;
}

struct dump_ctx {
	struct watch *w;
	uint64_t bit;
	bool into_rev;
	bool intr;
};

static int addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);

	if (mnl_attr_type_valid(attr, IFA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = attr;
	return MNL_CB_OK;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump_ctx *c = data;
	struct watch *w = c->w;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *tb[IFA_MAX + 1] = {0};
	const struct nlattr *at;
	unsigned char raw[16] = {0};
	size_t len, ns_i = (size_t)__builtin_ctzll(c->bit);
	struct addr *a;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		c->intr = true;
	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (w->ns[ns_i].ifindex && ifa->ifa_index != w->ns[ns_i].ifindex)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, tb);
	/* IFA_LOCAL is the address itself (IFA_ADDRESS is the peer on a
	 * point-to-point link); IPv6 has only IFA_ADDRESS */
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!at)
		return MNL_CB_OK;
	len = mnl_attr_get_payload_len(at);
	if (len != (ifa->ifa_family == AF_INET ? 4u : 16u))
		return MNL_CB_OK;
	memcpy(raw, mnl_attr_get_payload(at), len);
	a = addr_find(w, ifa->ifa_family, raw);
	if (!a) {
		if (!w->iface_mode || excluded(w, ifa->ifa_family, raw))
			return MNL_CB_OK;
		a = addr_add(w, ifa->ifa_family, raw);
		if (!a) {
			if (!w->dropped++)
				fprintf(stderr, "addrwatch: more than %zu addresses, not tracking %s and later ones (-m)\n",
					w->cap, inet_ntop(ifa->ifa_family, raw, (char[INET6_ADDRSTRLEN]){0},
							  INET6_ADDRSTRLEN));
			return MNL_CB_OK;
		}
	}
	if (c->into_rev)
		a->rev |= c->bit;
	else
		a->fwd |= c->bit;
	return MNL_CB_OK;
}

/* 0 done, -1 error (printed), 1 interrupted by a stop signal */
static int dump_one(struct watch *w, int i, bool into_rev)
{
	struct ns *n = &w->ns[i];
	uint64_t bit = 1ull << i;

	for (int attempt = 0;; attempt++) {
		char req[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
		struct ifaddrmsg *ifa;
		struct dump_ctx c = {.w = w, .bit = bit, .into_rev = into_rev};
		unsigned seq = ++w->seq;
		int rc;

		nlh->nlmsg_type = RTM_GETADDR;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		nlh->nlmsg_seq = seq;
		ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
		ifa->ifa_family = AF_UNSPEC;
		for (size_t k = 0; k < w->na; k++) {
			if (into_rev)
				w->a[k].rev &= ~bit;
			else
				w->a[k].fwd &= ~bit;
		}
		if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0) {
			fprintf(stderr, "addrwatch: namespace %s: send: %s\n", n->name,
				strerror(errno));
			return -1;
		}
		do {
			ssize_t got = mnl_socket_recvfrom(n->nl, w->buf, RECV_BUF);

			if (got < 0) {
				if (errno == EINTR) {
					if (stop_flag)
						return 1;
					rc = MNL_CB_OK;
					continue;
				}
				fprintf(stderr, "addrwatch: namespace %s: recv: %s\n", n->name,
					strerror(errno));
				return -1;
			}
			rc = mnl_cb_run(w->buf, (size_t)got, seq, n->portid, dump_cb, &c);
		} while (rc > MNL_CB_STOP);
		if (rc < 0) {
			fprintf(stderr, "addrwatch: namespace %s: dump: %s\n", n->name,
				strerror(errno));
			return -1;
		}
		/* the kernel says the list changed under the dump: read it again */
		if (!c.intr || attempt == DUMP_RETRIES)
			return 0;
		w->retries++;
	}
}

/* One pass: every namespace in order, confirmed in reverse order when it
 * shows something new and bad.  0 committed, -1 error, 1 stopped. */
static int pass(struct watch *w, int64_t t)
{
	bool suspect = false;
	int rc;

	for (int i = 0; i < w->nns; i++)
		if ((rc = dump_one(w, i, false)) != 0)
			return rc;
	for (size_t k = 0; k < w->na; k++) {
		struct addr *a = &w->a[k];
		int f = cls_of(a->fwd);

		a->cand = a->fwd;
		if (f != C_ONE && f != cls_of(a->acc))
			suspect = true;
	}
	if (suspect && w->first_done) {
		w->confirms++;
		for (int i = w->nns - 1; i >= 0; i--)
			if ((rc = dump_one(w, i, true)) != 0)
				return rc;
		for (size_t k = 0; k < w->na; k++) {
			struct addr *a = &w->a[k];
			int r = cls_of(a->rev);

			if (r == C_ONE || r == cls_of(a->acc) || r == cls_of(a->fwd))
				a->cand = a->rev;
			else
				a->cand = a->acc;
			a->rev = 0;
		}
	}
	commit(w, t);
	return 0;
}

static void write_header(struct watch *w)
{
	char stamp[32];
	bool sep = false;

	if (!w->log)
		return;
	fmt_stamp(stamp, sizeof(stamp), w->t_first);
	fprintf(w->log, "# addrwatch start=%s interval_ms=%u ns=", stamp, w->interval_ms);
	for (int i = 0; i < w->nns; i++)
		fprintf(w->log, "%s%s", i ? "," : "", w->ns[i].name);
	for (size_t k = 0; k < w->na; k++)
		if (w->a[k].given) {
			fprintf(w->log, "%s%s", sep ? "," : " addrs=", w->a[k].str);
			sep = true;
		}
	if (w->iface)
		fprintf(w->log, " iface=%s", w->iface);
	fputc('\n', w->log);
}

static void write_footer(struct watch *w)
{
	char stamp[32];

	if (!w->log)
		return;
	fmt_stamp(stamp, sizeof(stamp), w->t_last);
	fprintf(w->log,
		"# end=%s samples=%" PRIu64 " confirms=%" PRIu64 " max_gap_us=%" PRId64
		" max_pass_us=%" PRId64 " retries=%" PRIu64 " dropped=%" PRIu64 "\n",
		stamp, w->samples, w->confirms, w->max_gap_us, w->max_pass_us, w->retries,
		w->dropped);
}

static int run(struct watch *w, double duration_s)
{
	struct timespec next;
	int64_t start_mono = clock_us(CLOCK_MONOTONIC), last_mono = -1;
	int64_t step = (int64_t)w->interval_ms * 1000, deadline = -1;
	int64_t next_us = start_mono;

	if (duration_s > 0)
		deadline = start_mono + (int64_t)(duration_s * 1e6);
	while (!stop_flag) {
		int64_t t = clock_us(CLOCK_REALTIME), m0 = clock_us(CLOCK_MONOTONIC), dt;
		bool first = !w->first_done;
		int rc;

		if (first) {
			/* the header (which names this pass's stamp) goes before the
			 * first pass's "+" lines, and there is nothing to confirm yet */
			for (int i = 0; i < w->nns; i++)
				if ((rc = dump_one(w, i, false)) != 0)
					return rc < 0 ? -1 : 0;
			for (size_t k = 0; k < w->na; k++)
				w->a[k].cand = w->a[k].fwd;
			w->t_first = t;
			write_header(w);
			commit(w, t);
		} else if ((rc = pass(w, t)) != 0) {
			return rc < 0 ? -1 : 0;
		}
		w->samples++;
		dt = clock_us(CLOCK_MONOTONIC) - m0;
		if (dt > w->max_pass_us)
			w->max_pass_us = dt;
		if (last_mono >= 0 && m0 - last_mono > w->max_gap_us)
			w->max_gap_us = m0 - last_mono;
		last_mono = m0;
		if (deadline >= 0 && m0 >= deadline)
			break;
		next_us += step;
		dt = clock_us(CLOCK_MONOTONIC);
		if (next_us < dt)
			next_us = dt;	/* late: start now, the gap is on record */
		next.tv_sec = next_us / 1000000;
		next.tv_nsec = next_us % 1000000 * 1000;
		while (!stop_flag && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR)
			;
	}
	return 0;
}

/* ---- replay ----------------------------------------------------------------- */

static int header_field(const char *line, const char *key, char *out, size_t n)
{
	char pat[32];
	const char *p;
	size_t len;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	if (!p)
		return -1;
	p += strlen(pat);
	len = strcspn(p, " \n");
	if (len >= n)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

static int replay_header(struct watch *w, const char *line, const char *path)
{
	char *f = malloc(strlen(line) + 1), *save = NULL, *tok;
	size_t fn = strlen(line) + 1;
	int rc = -1;

	if (!f)
		return -1;
	if (strncmp(line, "# addrwatch ", 12) != 0 || header_field(line, "start", f, fn) < 0 ||
	    parse_stamp(f, &w->t_first) < 0 || header_field(line, "ns", f, fn) < 0) {
		fprintf(stderr, "addrwatch: %s: no addrwatch header on the first line\n", path);
		goto out;
	}
	for (tok = strtok_r(f, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (w->nns == MAX_NS || strlen(tok) > NS_NAME_MAX)
			goto out;
		snprintf(w->ns[w->nns++].name, NS_NAME_MAX + 1, "%s", tok);
	}
	if (header_field(line, "addrs", f, fn) == 0 && add_list(w, f, false) < 0)
		goto out;
	if (header_field(line, "interval_ms", f, fn) == 0)
		w->interval_ms = (unsigned)strtoul(f, NULL, 10);
	w->iface_mode = header_field(line, "iface", f, fn) == 0 &&
			header_field(line, "addrs", f, fn) < 0;
	rc = 0;
out:
	free(f);
	return rc;
}

static int replay_footer(struct watch *w, const char *line)
{
	char v[64];
	int64_t t;

	if (header_field(line, "end", v, sizeof(v)) < 0 || parse_stamp(v, &t) < 0)
		return -1;
	if (header_field(line, "samples", v, sizeof(v)) == 0)
		w->samples = strtoull(v, NULL, 10);
	if (header_field(line, "confirms", v, sizeof(v)) == 0)
		w->confirms = strtoull(v, NULL, 10);
	if (header_field(line, "max_gap_us", v, sizeof(v)) == 0)
		w->max_gap_us = strtoll(v, NULL, 10);
	if (header_field(line, "max_pass_us", v, sizeof(v)) == 0)
		w->max_pass_us = strtoll(v, NULL, 10);
	if (header_field(line, "retries", v, sizeof(v)) == 0)
		w->retries = strtoull(v, NULL, 10);
	if (header_field(line, "dropped", v, sizeof(v)) == 0)
		w->dropped = strtoull(v, NULL, 10);
	/* the last pass may have changed nothing: the run ends at its stamp */
	w->t_last = t;
	return 0;
}

/* The changes of one stamp are one pass: apply them together (a move inside
 * one pass is neither a double nor a down). */
static int replay(struct watch *w, const char *path, const char *keep)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int64_t group = 0;
	bool have_group = false, ended = false;
	unsigned lineno = 0;
	int rc = -1;

	if (!f) {
		fprintf(stderr, "addrwatch: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		char ns[NS_NAME_MAX + 1], as[INET6_ADDRSTRLEN + 1], st[40], op;
		unsigned char raw[16];
		int family, i;
		int64_t t;
		struct addr *a;

		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (replay_header(w, line, path) < 0 || (keep && parse_keep(w, keep) < 0))
				goto out;
			group = w->t_first;
			have_group = true;
			continue;
		}
		if (ended)
			goto bad;
		if (strncmp(line, "# end=", 6) == 0) {
			/* the footer's field parser wants a space before each key */
			char *sp = malloc((size_t)len + 2);

			if (!sp)
				goto out;
			sp[0] = ' ';
			memcpy(sp + 1, line + 2, (size_t)len - 1);
			if (replay_footer(w, sp) < 0) {
				free(sp);
				goto bad;
			}
			free(sp);
			ended = true;
			continue;
		}
		if (line[0] == '#' || len == 0)
			continue;
		if (sscanf(line, "%39s %200s %46s %c", st, ns, as, &op) != 4 ||
		    (op != '+' && op != '-') || parse_stamp(st, &t) < 0 || t < group ||
		    (i = ns_index(w, ns)) < 0 || parse_addr(as, &family, raw) < 0)
			goto bad;
		if (t != group) {
			if (have_group) {
				commit(w, group);
				for (size_t k = 0; k < w->na; k++)
					w->a[k].cand = w->a[k].acc;
			}
			group = t;
			have_group = true;
		}
		a = addr_find(w, family, raw);
		if (!a) {
			a = addr_add(w, family, raw);
			if (!a) {
				w->dropped++;
				continue;
			}
		}
		if (op == '+')
			a->cand |= 1ull << i;
		else
			a->cand &= ~(1ull << i);
	}
	if (lineno == 0) {
		fprintf(stderr, "addrwatch: %s: empty\n", path);
		goto out;
	}
	if (!ended) {
		fprintf(stderr, "addrwatch: %s: no \"# end=\" line: the sampler did not finish\n",
			path);
		goto out;
	}
	{
		int64_t end = w->t_last;

		if (have_group)
			commit(w, group);
		if (end > w->t_last)
			w->t_last = end;
	}
	rc = 0;
	goto out;
bad:
	fprintf(stderr, "addrwatch: %s:%u: not a change line of addrwatch: %s\n", path, lineno,
		line);
out:
	free(line);
	fclose(f);
	return rc;
}

/* ---- main ---------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: addrwatch [-a ADDR,..]... [-i IFACE] [-x ADDR,..]... [-I MS] [-d SECONDS]\n"
		"                 [-l LOG] [-o FILE] [-q] [-e] [-w FROM,TO] [-k NS,..] [-m N] [-R PRIO] NS...\n"
		"       addrwatch --replay LOG [-w FROM,TO] [-k NS,..] [-o FILE] [-q] [-e]\n"
		"Samples which network namespaces hold which addresses; see the source's header.\n");
}

static void watch_free(struct watch *w)
{
	for (int i = 0; i < w->nns; i++)
		if (w->ns[i].nl)
			mnl_socket_close(w->ns[i].nl);
	free(w->a);
	free(w->hash);
	free(w->excl);
	free(w->buf);
	free(w->iface);
	free(w->ep);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"replay", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct watch w = {.interval_ms = 10, .w0 = INT64_MIN, .w1 = INT64_MAX};
	const char *logpath = NULL, *outpath = NULL, *replay_path = NULL, *keep = NULL;
	char **alist = NULL, **xlist = NULL;
	size_t nal = 0, nxl = 0, max_addrs = DEF_MAX_ADDRS;
	double duration = 0;
	bool quiet = false, episodes = false;
	int prio = 0, opt, rc = 1, self_fd = -1;
	FILE *out = stdout;
	char *end;

	while ((opt = getopt_long(argc, argv, "a:i:x:I:d:l:o:qew:k:m:R:h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'a':
		case 'x': {
			char ***l = opt == 'a' ? &alist : &xlist;
			size_t *n = opt == 'a' ? &nal : &nxl;
			char **g = realloc(*l, (*n + 1) * sizeof(**l));

			if (!g)
				goto out;
			*l = g;
			g[(*n)++] = optarg;
			break;
		}
		case 'i':
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE) {
				fprintf(stderr, "addrwatch: -i %s: not an interface name\n", optarg);
				rc = 2;
				goto out;
			}
			free(w.iface);
			w.iface = strdup(optarg);
			if (!w.iface)
				goto out;
			break;
		case 'I': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || v < 1 || v > 60000) {
				fprintf(stderr, "addrwatch: -I %s: want 1..60000 ms\n", optarg);
				rc = 2;
				goto out;
			}
			w.interval_ms = (unsigned)v;
			break;
		}
		case 'd':
			duration = strtod(optarg, &end);
			if (*end || !*optarg || !(duration > 0) || duration > 7 * 86400) {
				fprintf(stderr, "addrwatch: -d %s: want seconds > 0\n", optarg);
				rc = 2;
				goto out;
			}
			break;
		case 'l':
			logpath = optarg;
			break;
		case 'o':
			outpath = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'e':
			episodes = true;
			break;
		case 'w':
			if (parse_window(&w, optarg) < 0) {
				fprintf(stderr, "addrwatch: -w %s: want FROM,TO in epoch ms, FROM <= TO, either may be empty\n",
					optarg);
				rc = 2;
				goto out;
			}
			break;
		case 'k':
			keep = optarg;
			break;
		case 'm': {
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || !*optarg || v < 1 || v > 1000000) {
				fprintf(stderr, "addrwatch: -m %s: want 1..1000000\n", optarg);
				rc = 2;
				goto out;
			}
			max_addrs = v;
			break;
		}
		case 'R': {
			long v = strtol(optarg, &end, 10);

			if (*end || !*optarg || v < sched_get_priority_min(SCHED_FIFO) ||
			    v > sched_get_priority_max(SCHED_FIFO)) {
				fprintf(stderr, "addrwatch: -R %s: not a SCHED_FIFO priority\n", optarg);
				rc = 2;
				goto out;
			}
			prio = (int)v;
			break;
		}
		case 'P':
			replay_path = optarg;
			break;
		case 'h':
			usage(stdout);
			rc = 0;
			goto out;
		default:
			usage(stderr);
			rc = 2;
			goto out;
		}
	}
	if (episodes) {
		w.max_ep = 4 * max_addrs + 1024;
		w.ep = malloc(w.max_ep * sizeof(*w.ep));
	}
	if (table_init(&w, max_addrs) < 0 || (episodes && !w.ep)) {
		fprintf(stderr, "addrwatch: out of memory\n");
		goto out;
	}
	if (replay_path) {
		if (optind < argc || nal || nxl || w.iface || logpath || prio) {
			fprintf(stderr, "addrwatch: --replay takes only -w, -k, -o, -q and -e\n");
			rc = 2;
			goto out;
		}
		if (replay(&w, replay_path, keep) < 0)
			goto out;
		goto report;
	}
	if (optind >= argc) {
		usage(stderr);
		rc = 2;
		goto out;
	}
	if (!nal && !w.iface) {
		fprintf(stderr, "addrwatch: nothing to watch: give -a ADDR or -i IFACE\n");
		rc = 2;
		goto out;
	}
	if (nxl && nal) {
		fprintf(stderr, "addrwatch: -x goes with -i alone (with -a, list only what to watch)\n");
		rc = 2;
		goto out;
	}
	if (argc - optind > MAX_NS) {
		fprintf(stderr, "addrwatch: at most %d namespaces\n", MAX_NS);
		rc = 2;
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		const char *s = argv[i];

		if (!*s || strlen(s) > NS_NAME_MAX || strpbrk(s, " \t\n,") || !strcmp(s, ".") ||
		    !strcmp(s, "..")) {
			fprintf(stderr, "addrwatch: '%s' is not a namespace name\n", s);
			rc = 2;
			goto out;
		}
		if (ns_index(&w, s) >= 0) {
			fprintf(stderr, "addrwatch: namespace %s given twice\n", s);
			rc = 2;
			goto out;
		}
		snprintf(w.ns[w.nns++].name, NS_NAME_MAX + 1, "%s", s);
	}
	for (size_t i = 0; i < nal; i++)
		if (add_list(&w, alist[i], false) < 0) {
			rc = 2;
			goto out;
		}
	for (size_t i = 0; i < nxl; i++)
		if (add_list(&w, xlist[i], true) < 0) {
			rc = 2;
			goto out;
		}
	w.iface_mode = !nal;
	if (keep && parse_keep(&w, keep) < 0) {
		rc = 2;
		goto out;
	}
	w.buf = malloc(RECV_BUF);
	if (!w.buf)
		goto out;
	self_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self_fd < 0) {
		fprintf(stderr, "addrwatch: /proc/self/ns/net: %s\n", strerror(errno));
		goto out;
	}
	for (int i = 0; i < w.nns; i++)
		if (ns_open(&w, &w.ns[i], self_fd) < 0)
			goto out;
	if (logpath) {
		w.log = fopen(logpath, "w");
		if (!w.log) {
			fprintf(stderr, "addrwatch: %s: %s\n", logpath, strerror(errno));
			goto out;
		}
	}
	if (prio) {
		struct sched_param sp = {.sched_priority = prio};

		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0) {
			fprintf(stderr, "addrwatch: SCHED_FIFO %d: %s\n", prio, strerror(errno));
			goto out;
		}
	}
	{
		struct sigaction sa = {.sa_handler = on_signal};

		sigemptyset(&sa.sa_mask);
		/* no SA_RESTART: a blocked receive or sleep returns at once */
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
	}
	if (run(&w, duration) < 0)
		goto out;
	if (!w.first_done) {
		fprintf(stderr, "addrwatch: stopped before the first pass\n");
		goto out;
	}
	write_footer(&w);
report:
	finish(&w);
	if (outpath) {
		out = fopen(outpath, "w");
		if (!out) {
			fprintf(stderr, "addrwatch: %s: %s\n", outpath, strerror(errno));
			out = stdout;
			goto out;
		}
	}
	summary(&w, out, quiet);
	rc = 0;
out:
	if (out != stdout && fclose(out) != 0)
		rc = 1;
	if (w.log && fclose(w.log) != 0) {
		fprintf(stderr, "addrwatch: %s: write failed\n", logpath);
		rc = 1;
	}
	if (self_fd >= 0)
		close(self_fd);
	watch_free(&w);
	free(alist);
	free(xlist);
	return rc;
}
