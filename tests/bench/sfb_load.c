/*
 * Load generator and stand-in service for tests/bench/smallfile-balance.sh.
 *
 *   sfb_load server PORT ADDR...
 *	Listen on every ADDR:PORT (IP_FREEBIND: the address need not be on
 *	this node yet, as a service bound to every VIP on every node).  Each
 *	request is an 8-byte header {u32 request size, u32 reply size, little
 *	endian} followed by the request bytes; the reply is that many bytes.
 *
 *   sfb_load client SECONDS OUTFILE KIND:ADDR:PORT:CONNS:RATE...
 *	KIND small: 128-byte requests, 512-byte replies (a lookup, a small
 *	read); bulk: 1 MiB requests, 16-byte replies (a large write).  RATE
 *	is requests per second per connection.  A failed connection is opened
 *	again (the address moved).  Every second OUTFILE is rewritten with
 *	one line per target: "INDEX KIND ADDR REQUESTS ERRORS" (cumulative).
 *
 * Threads with blocking sockets and timeouts: a handful of connections,
 * simple and bounded; every wait has a timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_TARGETS 64
#define MAX_MSG (1u << 20)

struct target {
	char kind[8];
	char addr[64];
	int port, conns, rate;
	uint64_t requests, errors; /* atomic */
};

static struct target targets[MAX_TARGETS];
static int n_targets;
static volatile int stop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int full_io(int fd, void *buf, size_t n, int writing)
{
	char *p = buf;

	while (n > 0) {
		ssize_t k = writing ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);

		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static void set_timeouts(int fd, int secs)
{
	struct timeval tv = {secs, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*len = sizeof(*a4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*a6);
		return 0;
	}
	return -1;
}

/* ---- server ---- */

static void *serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(MAX_MSG);

	set_timeouts(fd, 30);
	while (buf != NULL) {
		uint8_t h[8];
		uint32_t req, rep;

		if (full_io(fd, h, 8, 0) < 0)
			break;
		req = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
		rep = (uint32_t)h[4] | (uint32_t)h[5] << 8 | (uint32_t)h[6] << 16 | (uint32_t)h[7] << 24;
		if (req > MAX_MSG || rep > MAX_MSG)
			break;
		if (full_io(fd, buf, req, 0) < 0 || full_io(fd, buf, rep, 1) < 0)
			break;
	}
	free(buf);
	close(fd);
	return NULL;
}

static void *serve_listener(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	while (!stop) {
		struct pollfd p = {lfd, POLLIN, 0};
		pthread_t t;
		int fd;

		if (poll(&p, 1, 500) <= 0)
			continue;
		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (pthread_create(&t, NULL, serve_conn, (void *)(intptr_t)fd) != 0)
			close(fd);
		else
			pthread_detach(t);
	}
	return NULL;
}

static int server(int port, int n, char **addrs)
{
	pthread_t t[MAX_TARGETS];
	int one = 1;

	if (n > MAX_TARGETS)
		return 2;
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd;

		if (sockaddr_of(addrs[i], port, &ss, &len) < 0)
			return 2;
		fd = socket(ss.ss_family, SOCK_STREAM, 0);
		if (fd < 0)
			return 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 64) < 0) {
			fprintf(stderr, "sfb_load: %s:%d: %s\n", addrs[i], port, strerror(errno));
			return 1;
		}
		pthread_create(&t[i], NULL, serve_listener, (void *)(intptr_t)fd);
	}
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/* ---- client ---- */

static int connect_to(const struct target *tg)
{
	struct sockaddr_storage ss;
	struct pollfd p;
	socklen_t len, elen = sizeof(int);
	int fd, err = 0, one = 1;

	if (sockaddr_of(tg->addr, tg->port, &ss, &len) < 0)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
		goto fail;
	p = (struct pollfd){fd, POLLOUT, 0};
	if (poll(&p, 1, 1000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err)
		goto fail;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		goto fail;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	set_timeouts(fd, 2);
	return fd;
fail:
	close(fd);
	return -1;
}

static void *client_conn(void *arg)
{
	struct target *tg = arg;
	int bulk = strcmp(tg->kind, "bulk") == 0, fd = -1;
	uint32_t req = bulk ? MAX_MSG : 128, rep = bulk ? 16 : 512;
	char *buf = calloc(1, MAX_MSG + 8);
	uint64_t gap = 1000000000ull / (uint64_t)(tg->rate > 0 ? tg->rate : 1), next = now_ns();

	while (buf != NULL && !stop) {
		uint64_t t = now_ns();

		if (t < next) {
			struct timespec ts = {(time_t)((next - t) / 1000000000ull),
					      (long)((next - t) % 1000000000ull)};

			nanosleep(&ts, NULL);
			continue;
		}
		next += gap;
		if (next + 1000000000ull < t)
			next = t;	/* do not make up for an outage in a burst */
		if (fd < 0 && (fd = connect_to(tg)) < 0) {
			__atomic_add_fetch(&tg->errors, 1, __ATOMIC_RELAXED);
			usleep(100000);
			continue;
		}
		for (int i = 0; i < 4; i++)
			buf[i] = (char)(req >> (8 * i)), buf[4 + i] = (char)(rep >> (8 * i));
		if (full_io(fd, buf, 8 + req, 1) < 0 || full_io(fd, buf, rep, 0) < 0) {
			__atomic_add_fetch(&tg->errors, 1, __ATOMIC_RELAXED);
			close(fd);
			fd = -1;
			continue;
		}
		__atomic_add_fetch(&tg->requests, 1, __ATOMIC_RELAXED);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static void write_counts(const char *path)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	for (int i = 0; i < n_targets; i++)
		fprintf(f, "%d %s %s %llu %llu\n", i, targets[i].kind, targets[i].addr,
			(unsigned long long)__atomic_load_n(&targets[i].requests, __ATOMIC_RELAXED),
			(unsigned long long)__atomic_load_n(&targets[i].errors, __ATOMIC_RELAXED));
	fclose(f);
	rename(tmp, path);
}

static int client(int secs, const char *out, int n, char **specs)
{
	pthread_t th[512];
	int nth = 0;

	for (int i = 0; i < n && n_targets < MAX_TARGETS; i++) {
		struct target *tg = &targets[n_targets];

		if (sscanf(specs[i], "%7[a-z]:%63[^:]:%d:%d:%d", tg->kind, tg->addr, &tg->port,
			   &tg->conns, &tg->rate) != 5 || tg->conns < 1 || tg->conns > 32 ||
		    (strcmp(tg->kind, "small") && strcmp(tg->kind, "bulk"))) {
			fprintf(stderr, "sfb_load: bad target %s\n", specs[i]);
			return 2;
		}
		n_targets++;
	}
	for (int i = 0; i < n_targets; i++)
		for (int k = 0; k < targets[i].conns && nth < 512; k++)
			if (pthread_create(&th[nth], NULL, client_conn, &targets[i]) == 0)
				nth++;
	for (int s = 0; s < secs && !stop; s++) {
		sleep(1);
		write_counts(out);
	}
	stop = 1;
	for (int i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	write_counts(out);
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 4 && strcmp(argv[1], "server") == 0)
		return server(atoi(argv[2]), argc - 3, argv + 3);
	if (argc >= 5 && strcmp(argv[1], "client") == 0)
		return client(atoi(argv[2]), argv[3], argc - 4, argv + 4);
	fprintf(stderr, "usage: sfb_load server PORT ADDR... | client SECONDS OUTFILE "
			"KIND:ADDR:PORT:CONNS:RATE...\n");
	return 2;
}
