/*
 * VIP executor tests, run against the real kernel.
 *
 * The test moves itself into a private network namespace (unshare), so the
 * host's interfaces are never touched and nothing outlives the process.  It
 * builds a veth pair v0/v1: addresses go on v0, and v1 is where a packet
 * socket sees what v0 sent (a dummy interface would drop it, and this kernel
 * may not have dummy at all).  The kernel is the oracle: every check reads
 * `ip -o addr`, never the executor's own view.  The loop is driven in bounded
 * slices by a stop timer.  Without root or namespaces the test is skipped
 * (exit 77).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <qb/qbdefs.h>
#include <qb/qblog.h>
#include <qb/qbloop.h>

#include "exec/vip.h"

static qb_loop_t *loop;

struct events {
	unsigned int readded;
	unsigned int errors;
	int last_err;
	bool stop_on_readd;
};

static void on_event(void *ud, size_t idx, bool readded, int err)
{
	struct events *ev = ud;

	if (readded) {
		ev->readded++;
		if (ev->stop_on_readd)
			qb_loop_stop(loop);
	}
	if (err < 0) {
		ev->errors++;
		ev->last_err = err;
	}
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* The `ip -o addr show dev 'dev'` line containing 'needle' ("inet A/P "),
 * copied to 'line' when given.  Returns how many lines matched. */
static int kernel_addr(const char *dev, const char *needle, char *line, size_t size)
{
	char cmd[128], buf[1024];
	int found = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "ip -o addr show dev %s 2>/dev/null", dev);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(buf, sizeof(buf), f)) {
		if (!strstr(buf, needle))
			continue;
		if (line && !found)
			snprintf(line, size, "%s", buf);
		found++;
	}
	pclose(f);
	return found;
}

/* Remaining lifetime ('which' is "valid_lft " or "preferred_lft ") in
 * seconds as the kernel reports it; -1 = forever. */
static long kernel_lft(const char *dev, const char *needle, const char *which)
{
	char line[1024];
	const char *p;

	assert_int_equal(kernel_addr(dev, needle, line, sizeof(line)), 1);
	p = strstr(line, which);
	assert_non_null(p);
	p += strlen(which);
	if (!strncmp(p, "forever", 7))
		return -1;
	return strtol(p, NULL, 10);
}

static long kernel_valid_lft(const char *dev, const char *needle)
{
	return kernel_lft(dev, needle, " valid_lft ");
}

static void stop_loop(void *data) { qb_loop_stop(data); }

/* Run the loop for at most 'ms'; a callback may stop it earlier. */
static void run_loop_ms(unsigned int ms)
{
	qb_loop_timer_handle th;

	assert_int_equal(
	    qb_loop_timer_add(loop, QB_LOOP_LOW, ms * QB_TIME_NS_IN_MSEC, loop, stop_loop, &th), 0);
	qb_loop_run(loop);
	qb_loop_timer_del(loop, th);
}

static struct vip_local vl(const char *addr, const char *ifname)
{
	struct vip_local v;

	memset(&v, 0, sizeof(v));
	assert_int_equal(res_addr_parse(addr, &v.addr), 0);
	snprintf(v.ifname, sizeof(v.ifname), "%s", ifname);
	return v;
}

static const struct vip_exec_config cfg_default = {
    .lifetime_s = 30,
    .announce_count = 0,
    .announce_interval_ms = 10,
};

static int flush(void **state)
{
	(void)state;
	return system("ip addr flush dev v0 scope global 2>/dev/null") ? -1 : 0;
}

static void test_acquire_v4(void **state)
{
	struct vip_local v[] = {vl("10.44.0.10/24", "v0"), vl("10.44.1.10/32", "v0")};
	struct vip_exec *x = NULL;
	char line[1024];
	long lft;

	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 2, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(kernel_addr("v0", "inet 10.44.0.10/24 ", line, sizeof(line)), 1);
	assert_non_null(strstr(line, "brd 10.44.0.255 "));
	lft = kernel_valid_lft("v0", "inet 10.44.0.10/24 ");
	assert_true(lft >= 28 && lft <= 30);
	lft = kernel_lft("v0", "inet 10.44.0.10/24 ", "preferred_lft ");
	assert_true(lft >= 28 && lft <= 30);
	/* /32 has no broadcast, as with `ip addr add ... brd +` */
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	assert_int_equal(kernel_addr("v0", "inet 10.44.1.10/32 ", line, sizeof(line)), 1);
	assert_null(strstr(line, "brd"));
	vip_exec_free(x);
	/* free leaves the addresses: an in-place restart keeps them */
	assert_int_equal(kernel_addr("v0", "inet 10.44.0.10/24 ", NULL, 0), 1);
}

static void test_acquire_idempotent(void **state)
{
	struct vip_local v = vl("10.44.0.11/24", "v0");
	struct vip_exec *x = NULL;

	assert_int_equal(vip_exec_new(loop, &cfg_default, &v, 1, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(kernel_addr("v0", "10.44.0.11/", NULL, 0), 1);
	vip_exec_free(x);
}

static void test_release(void **state)
{
	struct vip_local v[] = {vl("10.44.0.12/24", "v0"), vl("fd00:44::12/64", "v0")};
	struct vip_exec *x = NULL;

	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 2, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	assert_int_equal(vip_exec_release(x, 0), 0);
	assert_int_equal(vip_exec_release(x, 1), 0);
	assert_int_equal(kernel_addr("v0", "10.44.0.12/", NULL, 0), 0);
	assert_int_equal(kernel_addr("v0", "fd00:44::12/", NULL, 0), 0);
	assert_int_equal(vip_exec_release(x, 0), 0);
	assert_int_equal(vip_exec_release(x, 1), 0);
	assert_int_equal(vip_exec_release(x, 2), -EINVAL);
	/* released means no longer kept: the loop does not bring it back */
	run_loop_ms(50);
	assert_int_equal(kernel_addr("v0", "10.44.0.12/", NULL, 0), 0);
	vip_exec_free(x);
}

/* Two VIPs in a subnet the interface has no other address in: the first
 * one added is the subnet's primary.  Releasing it must not take the other
 * with it (the kernel deletes secondaries with their primary unless
 * promote_secondaries is set, and the kernel default is 0). */
static void test_release_keeps_siblings(void **state)
{
	struct vip_local v[] = {vl("10.66.0.1/16", "v0"), vl("10.66.0.2/16", "v0")};
	struct vip_exec *x = NULL;

	sh("sysctl -qw net.ipv4.conf.v0.promote_secondaries=0 net.ipv4.conf.all.promote_secondaries=0");
	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 2, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	assert_int_equal(vip_exec_release(x, 0), 0);
	/* at once, not after a reconcile put it back */
	assert_int_equal(kernel_addr("v0", "10.66.0.2/", NULL, 0), 1);
	assert_int_equal(kernel_addr("v0", "10.66.0.1/", NULL, 0), 0);
	vip_exec_free(x);
}

/* Adoption keeps and renews an address already present, sends nothing, and
 * refuses an address that is not there. */
static void test_adopt(void **state)
{
	struct vip_local v[] = {vl("10.45.0.20/24", "v0"), vl("10.45.0.21/24", "v0")};
	struct vip_exec *x = NULL;
	char line[512];

	sh("ip addr add 10.45.0.20/24 dev v0 valid_lft 3 preferred_lft 3");
	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 2, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_adopt(x, 0), 0);
	assert_int_equal(kernel_addr("v0", "10.45.0.20/", line, sizeof(line)), 1);
	assert_non_null(strstr(line, "valid_lft 30sec"));	/* renewed to our lifetime */
	assert_int_equal(vip_exec_adopt(x, 1), -ENOENT);
	assert_int_equal(kernel_addr("v0", "10.45.0.21/", NULL, 0), 0);
	/* adopted means kept: deleted by hand, the next renewal puts it back */
	sh("ip addr del 10.45.0.20/24 dev v0");
	assert_int_equal(vip_exec_renew(x, 0), 0);
	assert_int_equal(kernel_addr("v0", "10.45.0.20/", NULL, 0), 1);
	vip_exec_free(x);
}

static void test_scan(void **state)
{
	struct vip_local v[] = {
	    vl("10.44.0.20/24", "v0"),	    /* present */
	    vl("10.44.0.21/24", "v0"),	    /* absent */
	    vl("10.44.0.22/24", "v0"),	    /* present with another prefix */
	    vl("10.44.0.23/24", "v1"),	    /* present, but on v0 */
	    vl("fd00:44::20/64", "v0"),	    /* present */
	    vl("10.44.0.24/24", "nosuch0"), /* interface missing */
	};
	bool held[6];
	struct vip_exec *x = NULL;

	sh("ip addr add 10.44.0.20/24 dev v0");
	sh("ip addr add 10.44.0.22/25 dev v0");
	sh("ip addr add 10.44.0.23/24 dev v0");
	sh("ip addr add fd00:44::20/64 dev v0 nodad");
	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 6, NULL, NULL, &x), 0);
	memset(held, 0xff, sizeof(held));
	assert_int_equal(vip_exec_scan(x, held), 0);
	assert_true(held[0]);
	assert_false(held[1]);
	assert_false(held[2]);
	assert_false(held[3]);
	assert_true(held[4]);
	assert_false(held[5]);
	sh("ip addr del 10.44.0.20/24 dev v0");
	assert_int_equal(vip_exec_scan(x, held), 0);
	assert_false(held[0]);
	/* scan adopts nothing: not intended, so a deletion stays deleted */
	run_loop_ms(50);
	assert_int_equal(kernel_addr("v0", "10.44.0.20/", NULL, 0), 0);
	vip_exec_free(x);
}

/* An address deleted by hand comes back at the next renewal, and only then:
 * nothing is re-added behind the daemon's back between heartbeats. */
static void test_renew_readds(void **state)
{
	struct vip_local v[] = {vl("10.44.0.30/24", "v0"), vl("fd00:44::30/64", "v0")};
	struct events ev = {0};
	struct vip_exec *x = NULL;

	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 2, on_event, &ev, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	sh("ip addr del 10.44.0.30/24 dev v0");
	sh("ip addr del fd00:44::30/64 dev v0");
	run_loop_ms(300);
	assert_int_equal(kernel_addr("v0", "10.44.0.30/", NULL, 0), 0);
	assert_int_equal(ev.readded, 0);
	assert_int_equal(vip_exec_renew(x, 0), 0);
	assert_int_equal(ev.readded, 2);
	assert_int_equal(kernel_addr("v0", "inet 10.44.0.30/24 ", NULL, 0), 1);
	assert_true(kernel_valid_lft("v0", "inet 10.44.0.30/24 ") >= 28);
	assert_int_equal(kernel_addr("v0", "inet6 fd00:44::30/64 ", NULL, 0), 1);
	assert_int_equal(ev.errors, 0);
	vip_exec_free(x);
}

/* A renewal resets the lifetime; without one the kernel counts down: after
 * 1.3 s of a 2 s lifetime an unrenewed address shows 1 s left. */
static void test_refresh(void **state)
{
	struct vip_exec_config cfg = cfg_default;
	struct vip_local v[] = {vl("10.44.0.40/24", "v0"), vl("fd00:44::40/64", "v0")};
	struct vip_exec *x = NULL;

	cfg.lifetime_s = 2;
	assert_int_equal(vip_exec_new(loop, &cfg, v, 2, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	run_loop_ms(1300);
	assert_int_equal(kernel_valid_lft("v0", "inet 10.44.0.40/24 "), 1);
	assert_int_equal(vip_exec_renew(x, 0), 0);
	assert_int_equal(kernel_valid_lft("v0", "inet 10.44.0.40/24 "), 2);
	assert_int_equal(kernel_valid_lft("v0", "inet6 fd00:44::40/64 "), 2);
	/* a lifetime set later applies to the next renewal */
	vip_exec_set_lifetime(x, 5);
	assert_int_equal(vip_exec_renew(x, 0), 0);
	assert_int_equal(kernel_valid_lft("v0", "inet 10.44.0.40/24 "), 5);
	vip_exec_free(x);
}

static void test_permanent(void **state)
{
	struct vip_exec_config cfg = cfg_default;
	struct vip_local v[] = {vl("10.44.0.41/24", "v0"), vl("fd00:44::41/64", "v0")};
	struct vip_exec *x = NULL;

	cfg.lifetime_s = 0;
	/* a dynamic leftover becomes permanent on acquire */
	sh("ip addr add 10.44.0.41/24 dev v0 valid_lft 100 preferred_lft 100");
	assert_int_equal(vip_exec_new(loop, &cfg, v, 2, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	assert_int_equal(kernel_valid_lft("v0", "inet 10.44.0.41/24 "), -1);
	assert_int_equal(kernel_valid_lft("v0", "inet6 fd00:44::41/64 "), -1);
	vip_exec_free(x);
}

static void test_ipv6(void **state)
{
	struct vip_local v = vl("fd00:44::50/64", "v0");
	struct vip_exec *x = NULL;
	char line[1024];
	long lft;

	assert_int_equal(vip_exec_new(loop, &cfg_default, &v, 1, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(kernel_addr("v0", "inet6 fd00:44::50/64 ", line, sizeof(line)), 1);
	/* usable at once: no DAD, so never tentative */
	assert_null(strstr(line, "tentative"));
	assert_non_null(strstr(line, "nodad"));
	lft = kernel_valid_lft("v0", "inet6 fd00:44::50/64 ");
	assert_true(lft >= 28 && lft <= 30);
	vip_exec_free(x);
}

static void test_enodev(void **state)
{
	struct vip_local v = vl("10.44.0.60/24", "v9");
	struct vip_exec *x = NULL;
	bool held = true;

	assert_int_equal(vip_exec_new(loop, &cfg_default, &v, 1, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), -ENODEV);
	assert_int_equal(vip_exec_release(x, 0), 0);
	assert_int_equal(vip_exec_scan(x, &held), 0);
	assert_false(held);
	/* the name is resolved at acquire time, so a late interface works */
	sh("ip link add v9 type veth peer name v9p && ip link set v9 up");
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(kernel_addr("v9", "inet 10.44.0.60/24 ", NULL, 0), 1);
	vip_exec_free(x);
	sh("ip link del v9");
}

/* An interface deleted and re-created gets a new index; the address follows
 * it there once the link shows up again. */
static void test_interface_recreated(void **state)
{
	struct vip_local v = vl("10.44.0.61/24", "v8");
	struct events ev = {0};
	struct vip_exec *x = NULL;
	int i;

	sh("ip link add v8 type veth peer name v8p && ip link set v8 up");
	assert_int_equal(vip_exec_new(loop, &cfg_default, &v, 1, on_event, &ev, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	sh("ip link del v8");
	assert_int_equal(vip_exec_renew(x, 0), 0);
	assert_true(ev.errors >= 1);
	assert_int_equal(ev.last_err, -ENODEV);
	sh("ip link add v8 type veth peer name v8p && ip link set v8 up");
	for (i = 0; i < 20 && !ev.readded; i++) {
		run_loop_ms(50);
		assert_int_equal(vip_exec_renew(x, 0), 0);
	}
	assert_int_equal(ev.readded, 1);
	assert_int_equal(kernel_addr("v8", "inet 10.44.0.61/24 ", NULL, 0), 1);
	vip_exec_free(x);
	sh("ip link del v8");
}

static void test_release_all(void **state)
{
	struct vip_local v[] = {
	    vl("10.44.0.70/24", "v0"),
	    vl("10.44.0.71/24", "v0"),
	    vl("fd00:44::70/64", "v0"),
	    vl("10.44.0.72/24", "nosuch0"),
	};
	struct vip_exec *x = NULL;

	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 4, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 2), 0);
	/* adopted but never acquired: release_all takes it too */
	sh("ip addr add 10.44.0.71/24 dev v0");
	vip_exec_release_all(x);
	assert_int_equal(kernel_addr("v0", "10.44.0.7", NULL, 0), 0);
	assert_int_equal(kernel_addr("v0", "fd00:44::70/", NULL, 0), 0);
	run_loop_ms(50);
	assert_int_equal(kernel_addr("v0", "10.44.0.7", NULL, 0), 0);
	vip_exec_free(x);
}

static void test_cleanup(void **state)
{
	struct vip_local v[] = {
	    vl("10.44.0.80/24", "v0"),
	    vl("fd00:44::80/64", "v0"),
	    vl("10.44.0.81/24", "v0"),
	    vl("10.44.0.82/24", "nosuch0"),
	};

	sh("ip addr add 10.44.0.80/24 dev v0");
	sh("ip addr add fd00:44::80/64 dev v0 nodad");
	assert_int_equal(vip_cleanup(v, 4), 2);
	assert_int_equal(kernel_addr("v0", "10.44.0.80/", NULL, 0), 0);
	assert_int_equal(kernel_addr("v0", "fd00:44::80/", NULL, 0), 0);
	assert_int_equal(vip_cleanup(v, 4), 0);
	assert_int_equal(vip_cleanup(NULL, 0), 0);
}

static void test_invalid(void **state)
{
	struct vip_exec_config cfg = cfg_default;
	struct vip_local v = vl("10.44.0.90/24", "v0");
	struct vip_local bad = v;
	struct vip_exec *x = NULL;

	assert_int_equal(vip_exec_new(loop, &cfg, NULL, 1, NULL, NULL, &x), -EINVAL);
	snprintf(bad.ifname, sizeof(bad.ifname), "%s", "an-interface-name-too-long");
	assert_int_equal(vip_exec_new(loop, &cfg_default, &bad, 1, NULL, NULL, &x), -EINVAL);
	bad = v;
	bad.ifname[0] = '\0';
	assert_int_equal(vip_exec_new(loop, &cfg_default, &bad, 1, NULL, NULL, &x), -EINVAL);
	assert_null(x);
	vip_exec_free(NULL);
}

struct capture {
	unsigned int arp_req, arp_reply, na;
	bool na_ok;
};

static int capture_open(const char *ifname)
{
	struct sockaddr_ll sll;
	int fd;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK, htons(ETH_P_ALL));
	assert_true(fd >= 0);
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	assert_int_equal(bind(fd, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return fd;
}

/* Count announcements of 'ip4' / 'ip6' received on the capture socket, and
 * check that every NA is one a neighbour would accept. */
static void capture_count(int fd, const uint8_t ip4[4], const uint8_t ip6[16], struct capture *c)
{
	static const uint8_t allnodes[16] = {0xff, 0x02, [15] = 0x01};
	uint8_t f[2048];
	struct sockaddr_ll from;
	socklen_t flen;
	ssize_t len;
	uint16_t type;

	memset(c, 0, sizeof(*c));
	c->na_ok = true;
	for (;;) {
		flen = sizeof(from);
		len = recvfrom(fd, f, sizeof(f), 0, (struct sockaddr *)&from, &flen);
		if (len < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING || len < 14)
			continue;
		type = (uint16_t)(f[12] << 8 | f[13]);
		/* ARP: op at 20, sender IP at 28, target IP at 38 */
		if (type == ETH_P_ARP && len >= 42 && !memcmp(f + 28, ip4, 4) &&
		    !memcmp(f + 38, ip4, 4) && !memcmp(f, "\xff\xff\xff\xff\xff\xff", 6)) {
			if (f[21] == 1)
				c->arp_req++;
			else if (f[21] == 2)
				c->arp_reply++;
		}
		/* IPv6 header at 14: next header 20, hop limit 21, src 22, dst 38;
		 * ICMPv6 at 54: type, code, sum, flags at 58, target at 62 */
		if (type == ETH_P_IPV6 && len >= 86 && f[20] == 58 && f[54] == 136 &&
		    !memcmp(f + 62, ip6, 16)) {
			c->na++;
			if (f[21] != 255 || !(f[58] & 0x20) || (f[58] & 0x40) ||
			    memcmp(f + 38, allnodes, 16) || memcmp(f + 22, ip6, 16) || f[78] != 2 ||
			    f[79] != 1)
				c->na_ok = false;
		}
	}
}

static void test_announce(void **state)
{
	struct vip_exec_config cfg = cfg_default;
	struct vip_local v[] = {vl("10.44.0.100/24", "v0"), vl("fd00:44::100/64", "v0")};
	struct vip_exec *x = NULL;
	struct capture c;
	int fd;

	cfg.announce_count = 3;
	cfg.announce_interval_ms = 20;
	fd = capture_open("v1");
	assert_int_equal(vip_exec_new(loop, &cfg, v, 2, NULL, NULL, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	run_loop_ms(200);
	capture_count(fd, v[0].addr.bytes, v[1].addr.bytes, &c);
	assert_int_equal(c.arp_req, 3);
	assert_int_equal(c.arp_reply, 3);
	assert_int_equal(c.na, 3);
	assert_true(c.na_ok);

	/* acquiring what we already hold announces nothing new */
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	run_loop_ms(100);
	capture_count(fd, v[0].addr.bytes, v[1].addr.bytes, &c);
	assert_int_equal(c.arp_req + c.arp_reply + c.na, 0);

	/* a release stops a burst in flight */
	assert_int_equal(vip_exec_release(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_release(x, 0), 0);
	run_loop_ms(100);
	capture_count(fd, v[0].addr.bytes, v[1].addr.bytes, &c);
	assert_int_equal(c.arp_req, 1);

	/* and an address put back by a renewal is announced again */
	sh("ip addr del fd00:44::100/64 dev v0");
	assert_int_equal(vip_exec_renew(x, 0), 0);
	run_loop_ms(200);
	capture_count(fd, v[0].addr.bytes, v[1].addr.bytes, &c);
	assert_int_equal(c.na, 3);
	vip_exec_free(x);
	close(fd);
}

/* IPv6 addresses leave with the link; they must come back when it returns,
 * without the executor spinning while it is down. */
static void test_link_flap(void **state)
{
	struct vip_local v[] = {vl("10.44.0.110/24", "v0"), vl("fd00:44::110/64", "v0")};
	struct events ev = {0};
	struct vip_exec *x = NULL;

	assert_int_equal(vip_exec_new(loop, &cfg_default, v, 2, on_event, &ev, &x), 0);
	assert_int_equal(vip_exec_acquire(x, 0), 0);
	assert_int_equal(vip_exec_acquire(x, 1), 0);
	sh("ip link set v0 down");
	for (int i = 0; i < 3; i++) {
		run_loop_ms(100);
		(void)vip_exec_renew(x, 0);
	}
	assert_true(ev.readded <= 4);
	sh("ip link set v0 up");
	run_loop_ms(100);
	assert_int_equal(vip_exec_renew(x, 0), 0);
	assert_int_equal(kernel_addr("v0", "inet 10.44.0.110/24 ", NULL, 0), 1);
	assert_int_equal(kernel_addr("v0", "inet6 fd00:44::110/64 ", NULL, 0), 1);
	assert_int_equal(ev.errors, 0);
	vip_exec_free(x);
}

/* Returns 0 when the namespace is ready, 77 to skip. */
static int netns_setup(void)
{
	if (geteuid() != 0) {
		fprintf(stderr, "vip_test: needs root, skipping\n");
		return 77;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "vip_test: unshare(CLONE_NEWNET): %s, skipping\n", strerror(errno));
		return 77;
	}
	if (system("ip link set lo up && "
		   "ip link add v0 type veth peer name v1 && "
		   "ip link set v0 up && ip link set v1 up") != 0) {
		fprintf(stderr, "vip_test: cannot create veth pair, skipping\n");
		return 77;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_acquire_v4, flush),
	    cmocka_unit_test_setup(test_acquire_idempotent, flush),
	    cmocka_unit_test_setup(test_release, flush),
	    cmocka_unit_test_setup(test_release_keeps_siblings, flush),
	    cmocka_unit_test_setup(test_adopt, flush),
	    cmocka_unit_test_setup(test_scan, flush),
	    cmocka_unit_test_setup(test_renew_readds, flush),
	    cmocka_unit_test_setup(test_refresh, flush),
	    cmocka_unit_test_setup(test_permanent, flush),
	    cmocka_unit_test_setup(test_ipv6, flush),
	    cmocka_unit_test_setup(test_enodev, flush),
	    cmocka_unit_test_setup(test_interface_recreated, flush),
	    cmocka_unit_test_setup(test_release_all, flush),
	    cmocka_unit_test_setup(test_cleanup, flush),
	    cmocka_unit_test_setup(test_invalid, flush),
	    cmocka_unit_test_setup(test_announce, flush),
	    cmocka_unit_test_setup(test_link_flap, flush),
	};
	int rc;

	rc = netns_setup();
	if (rc)
		return rc;
	qb_log_init("vip_test", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
			  getenv("VIP_TEST_DEBUG") ? LOG_DEBUG : LOG_WARNING);
	qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	loop = qb_loop_create();
	if (!loop)
		return 99;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	qb_loop_destroy(loop);
	qb_log_fini();
	return rc;
}
