/*
 * gfclient - small libgfapi client for the Gluster integration tests.
 *
 *   gfclient -s HOST[,HOST...] -v VOLUME [-l LOGFILE] [-d DIR] [-p PREFIX] MODE ARGS
 *
 * Modes:
 *   write N          create N files DIR/PREFIX<k> (k = 0..N-1) with content
 *                    derived from the name; print "ACK <path>" for each one
 *                    acknowledged (create, write, fsync and close all returned
 *                    success) and "ERR <path> <op> <errno-name>" otherwise.
 *   check [FILE...]  read every "ACK <path>" line of FILE (stdin if none) and
 *                    verify its content (a read failing with ENOTCONN, ENOENT
 *                    or EIO is retried within GRACE s, shared by all files);
 *                    print "BAD <path> <why>" per failure
 *                    and "CHECK ok=N bad=M"; exit 1 if any is bad.
 *   loop SECONDS [INTERVAL_MS]
 *                    every INTERVAL_MS (default 200): create a new file
 *                    DIR/PREFIX<k>, read it back, and re-read one earlier file.
 *                    Operations failing with ENOTCONN, ENOENT or EIO (or
 *                    ESTALE, EAGAIN) are retried every 100 ms for up to
 *                    GRACE s (-g, default 15).  Prints "ACK <path>" per
 *                    acknowledged write, "FAIL <epoch.ms> <op> <path> <errno>"
 *                    on the first failure of an outage, "RECOVER <epoch.ms>
 *                    stall_ms=<ms>" when an operation succeeds again, and a
 *                    "LOOP passes= acked= failed_ops= outages= max_stall_ms="
 *                    line; it stops early once $GFCLIENT_STOP_FILE exists.
 *                    Then it reads back every file it
 *                    acknowledged plus the ACK lines of $GFCLIENT_VERIFY,
 *                    printing "BAD ..." per failure and "VERIFY ok=N bad=M".
 *   xattr PATH NAME  print "XATTR <path> <name> <value>" (virtual xattrs such
 *                    as trusted.glusterfs.pathinfo work).
 *   setgid DIR GID   a setgid project directory: mkdir DIR, chown it to group
 *                    GID, chmod 02775; then a file and a subdirectory in it
 *                    must get group GID, the subdirectory the setgid bit too.
 *                    Prints "SETGID <step> ..." per step, "SETGID ok" or
 *                    "SETGID FAIL <why>" (exit 1).
 *
 * The volfile servers are tried in order by glfs_init.  Output is line
 * buffered so that a test can follow it while the client runs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <glusterfs/api/glfs.h>

#define CONTENT_SIZE 512

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Fill 'buf' (CONTENT_SIZE bytes) with content that only depends on 'path'. */
static void content_for(const char *path, char *buf)
{
	size_t len = strlen(path), i;
	unsigned h = 2166136261u;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)path[i]) * 16777619u;
	for (i = 0; i < CONTENT_SIZE - 1; i++) {
		h = h * 1103515245u + 12345u;
		buf[i] = (char)('a' + (h >> 16) % 26);
	}
	buf[CONTENT_SIZE - 1] = '\n';
	i = (size_t)snprintf(buf, CONTENT_SIZE, "%s\n", path);
	(void)i;
}

/* Write one file; 0 or -errno, '*op' names the failing call. */
static int write_file(glfs_t *fs, const char *path, const char **op)
{
	char buf[CONTENT_SIZE];
	glfs_fd_t *fd;
	ssize_t n;
	int rc = 0;

	content_for(path, buf);
	*op = "creat";
	fd = glfs_creat(fs, path, O_WRONLY | O_TRUNC, 0644);
	if (!fd)
		return -errno;
	*op = "write";
	n = glfs_write(fd, buf, sizeof(buf), 0);
	if (n != (ssize_t)sizeof(buf)) {
		rc = n < 0 ? -errno : -EIO;
		goto out_close;
	}
	*op = "fsync";
	if (glfs_fsync(fd, NULL, NULL) < 0)
		rc = -errno;
out_close:
	if (glfs_close(fd) < 0 && rc == 0) {
		*op = "close";
		rc = -errno;
	}
	return rc;
}

/* Read one file and compare; 0, -errno, or -EILSEQ on a content mismatch. */
static int read_file(glfs_t *fs, const char *path, const char **op)
{
	char want[CONTENT_SIZE], got[CONTENT_SIZE + 1];
	glfs_fd_t *fd;
	ssize_t n;
	int rc = 0;

	content_for(path, want);
	*op = "open";
	fd = glfs_open(fs, path, O_RDONLY);
	if (!fd)
		return -errno;
	*op = "read";
	n = glfs_read(fd, got, sizeof(got), 0);
	if (n < 0)
		rc = -errno;
	else if (n != CONTENT_SIZE || memcmp(got, want, CONTENT_SIZE) != 0) {
		*op = "compare";
		rc = -EILSEQ;
	}
	glfs_close(fd);
	return rc;
}

static const char *errname(int e)
{
	switch (e) {
	case ENOTCONN: return "ENOTCONN";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case ESTALE: return "ESTALE";
	case EAGAIN: return "EAGAIN";
	case EILSEQ: return "MISMATCH";
	case EEXIST: return "EEXIST";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: return strerror(e);
	}
}

static bool retryable(int e)
{
	return e == ENOTCONN || e == ENOENT || e == EIO || e == ESTALE || e == EAGAIN;
}

static int mkdir_p(glfs_t *fs, const char *dir)
{
	char tmp[1024];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", dir) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (glfs_mkdir(fs, tmp, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int mode_write(glfs_t *fs, const char *dir, const char *prefix, long n)
{
	char path[1024];
	const char *op;
	long k, acked = 0;
	int rc;

	rc = mkdir_p(fs, dir);
	if (rc < 0) {
		printf("ERR %s mkdir %s\n", dir, errname(-rc));
		return 1;
	}
	for (k = 0; k < n && !stop_requested; k++) {
		snprintf(path, sizeof(path), "%s/%s%ld", dir, prefix, k);
		rc = write_file(fs, path, &op);
		if (rc == 0) {
			printf("ACK %s\n", path);
			acked++;
		} else
			printf("ERR %s %s %s\n", path, op, errname(-rc));
	}
	printf("WRITE acked=%ld failed=%ld\n", acked, k - acked);
	return acked == n ? 0 : 1;
}

static long check_grace_ms = 15000;
static long check_retry_t0;

static long check_stream(glfs_t *fs, FILE *in, long *bad)
{
	char line[1200];
	const char *op;
	long ok = 0;
	int rc;

	while (fgets(line, sizeof(line), in) && !stop_requested) {
		char *path;

		if (strncmp(line, "ACK ", 4) != 0)
			continue;
		path = line + 4;
		path[strcspn(path, "\n")] = '\0';
		rc = read_file(fs, path, &op);
		/* A new client may look files up before its connection to every
		 * brick is up, and DHT then answers ENOENT (as during an outage):
		 * retry for the grace (-g), shared by all files, before calling a
		 * file lost. */
		while (rc < 0 && retryable(-rc) && !stop_requested) {
			if (check_retry_t0 == 0)
				check_retry_t0 = mono_ms();
			if (mono_ms() - check_retry_t0 >= check_grace_ms)
				break;
			usleep(200 * 1000);
			rc = read_file(fs, path, &op);
		}
		if (rc == 0)
			ok++;
		else {
			printf("BAD %s %s %s\n", path, op, errname(-rc));
			(*bad)++;
		}
	}
	return ok;
}

static int mode_check(glfs_t *fs, int argc, char **argv)
{
	long ok = 0, bad = 0;
	int i;

	if (argc == 0)
		ok = check_stream(fs, stdin, &bad);
	for (i = 0; i < argc; i++) {
		FILE *f = fopen(argv[i], "r");

		if (!f) {
			fprintf(stderr, "gfclient: %s: %s\n", argv[i], strerror(errno));
			return 2;
		}
		ok += check_stream(fs, f, &bad);
		fclose(f);
	}
	printf("CHECK ok=%ld bad=%ld\n", ok, bad);
	return bad ? 1 : 0;
}

struct loop_stats {
	long passes, acked, failed_ops, outages, max_stall_ms;
	long outage_start_ms;           /* 0: no outage in progress */
};

/* Run one operation with retries; returns its final result. */
static int with_retry(struct loop_stats *st, long grace_ms, bool is_write,
		      glfs_t *fs, const char *path)
{
	long t0 = mono_ms();
	const char *op;
	int rc;

	for (;;) {
		rc = is_write ? write_file(fs, path, &op) : read_file(fs, path, &op);
		if (rc == 0) {
			if (st->outage_start_ms) {
				long stall = mono_ms() - st->outage_start_ms;

				printf("RECOVER %.3f stall_ms=%ld\n", now_s(), stall);
				if (stall > st->max_stall_ms)
					st->max_stall_ms = stall;
				st->outage_start_ms = 0;
			}
			return 0;
		}
		st->failed_ops++;
		if (!st->outage_start_ms) {
			st->outage_start_ms = mono_ms();
			st->outages++;
			printf("FAIL %.3f %s %s %s\n", now_s(), op, path, errname(-rc));
		}
		if (!retryable(-rc) || mono_ms() - t0 >= grace_ms || stop_requested) {
			printf("GIVEUP %.3f %s %s %s\n", now_s(), op, path, errname(-rc));
			return rc;
		}
		usleep(100 * 1000);
	}
}

static int mode_loop(glfs_t *fs, const char *dir, const char *prefix,
		     long seconds, long interval_ms, long grace_ms)
{
	struct loop_stats st = { 0 };
	char path[1024], old[1024];
	long end = mono_ms() + seconds * 1000, k = 0, first_acked = -1;
	long *ok_idx = NULL, n_ok = 0, cap_ok = 0;
	const char *stop_file = getenv("GFCLIENT_STOP_FILE");
	int rc;

	rc = mkdir_p(fs, dir);
	if (rc < 0) {
		printf("ERR %s mkdir %s\n", dir, errname(-rc));
		return 1;
	}
	while (mono_ms() < end && !stop_requested) {
		long t_pass = mono_ms();

		/* a test ends the loop by creating this file: no signal, so the
		 * read-back below runs with gfapi undisturbed */
		if (stop_file != NULL && *stop_file && access(stop_file, F_OK) == 0)
			break;

		snprintf(path, sizeof(path), "%s/%s%ld", dir, prefix, k);
		if (with_retry(&st, grace_ms, true, fs, path) == 0) {
			printf("ACK %s\n", path);
			st.acked++;
			if (n_ok == cap_ok) {
				long *v = realloc(ok_idx, (size_t)(cap_ok ? cap_ok * 2 : 64) * sizeof(*v));

				if (v != NULL) {
					ok_idx = v;
					cap_ok = cap_ok ? cap_ok * 2 : 64;
				}
			}
			if (n_ok < cap_ok)
				ok_idx[n_ok++] = k;
			if (first_acked < 0)
				first_acked = k;
			with_retry(&st, grace_ms, false, fs, path);
		}
		if (first_acked >= 0 && k > first_acked) {
			/* an earlier file: cycles over every brick */
			long j = first_acked + (k * 7) % (k - first_acked);

			snprintf(old, sizeof(old), "%s/%s%ld", dir, prefix, j);
			with_retry(&st, grace_ms, false, fs, old);
		}
		k++;
		st.passes++;
		t_pass = interval_ms - (mono_ms() - t_pass);
		if (t_pass > 0)
			usleep((useconds_t)t_pass * 1000);
	}
	if (st.outage_start_ms)
		printf("UNRECOVERED %.3f since_ms=%ld\n", now_s(), mono_ms() - st.outage_start_ms);
	/* Read back everything this client had acknowledged, over the same
	 * connections (a new client may not see every brick at first), plus
	 * the ACK lines of GFCLIENT_VERIFY (an earlier run's output). */
	{
		long vok = 0, vbad = 0;
		const char *op, *extra = getenv("GFCLIENT_VERIFY");

		stop_requested = 0;
		for (long i = 0; i < n_ok; i++) {
			snprintf(path, sizeof(path), "%s/%s%ld", dir, prefix, ok_idx[i]);
			rc = read_file(fs, path, &op);
			if (rc == 0) {
				vok++;
			} else {
				printf("BAD %s %s %s\n", path, op, errname(-rc));
				vbad++;
			}
		}
		if (extra != NULL && *extra) {
			FILE *f = fopen(extra, "r");

			if (f == NULL) {
				printf("BAD %s fopen %s\n", extra, errname(errno));
				vbad++;
			} else {
				vok += check_stream(fs, f, &vbad);
				fclose(f);
			}
		}
		printf("VERIFY ok=%ld bad=%ld\n", vok, vbad);
	}
	free(ok_idx);
	printf("LOOP passes=%ld acked=%ld failed_ops=%ld outages=%ld max_stall_ms=%ld\n",
	       st.passes, st.acked, st.failed_ops, st.outages, st.max_stall_ms);
	return st.outage_start_ms ? 1 : 0;
}

/* Print one (virtual) extended attribute, e.g. trusted.glusterfs.pathinfo. */
static int mode_xattr(glfs_t *fs, const char *path, const char *name)
{
	char buf[8192];
	ssize_t n = glfs_getxattr(fs, path, name, buf, sizeof(buf) - 1);

	if (n < 0) {
		printf("XATTR %s %s error %s\n", path, name, errname(errno));
		return 1;
	}
	buf[n] = '\0';
	printf("XATTR %s %s %s\n", path, name, buf);
	return 0;
}

/* Stat 'path' (WHAT: dir, file, subdir), print it, and check that it has
 * group 'gid' and, with 'sgid', the setgid bit.  0 if so. */
static int setgid_stat(glfs_t *fs, const char *what, const char *path, gid_t gid, bool sgid)
{
	struct stat st;

	if (glfs_stat(fs, path, &st) < 0) {
		printf("SETGID FAIL stat %s %s\n", path, errname(errno));
		return 1;
	}
	printf("SETGID %s %s mode=%04o gid=%u\n", what, path, (unsigned)(st.st_mode & 07777),
	       (unsigned)st.st_gid);
	if (st.st_gid != gid || (sgid && !(st.st_mode & S_ISGID))) {
		printf("SETGID FAIL %s %s: not group %u%s\n", what, path, (unsigned)gid,
		       sgid ? " with the setgid bit" : "");
		return 1;
	}
	return 0;
}

/* A setgid project directory through the bricks (see the header): a file
 * and a subdirectory made in it must inherit its group, the subdirectory
 * its setgid bit too. */
static int mode_setgid(glfs_t *fs, const char *dir, gid_t gid)
{
	char path[4096];
	glfs_fd_t *fd;

	if (glfs_mkdir(fs, dir, 0775) < 0 && errno != EEXIST) {
		printf("SETGID FAIL mkdir %s %s\n", dir, errname(errno));
		return 1;
	}
	if (glfs_chown(fs, dir, 0, gid) < 0) {
		printf("SETGID FAIL chown %s %s\n", dir, errname(errno));
		return 1;
	}
	if (glfs_chmod(fs, dir, 02775) < 0) {
		printf("SETGID FAIL chmod g+s %s %s\n", dir, errname(errno));
		return 1;
	}
	if (setgid_stat(fs, "dir", dir, gid, true))
		return 1;
	snprintf(path, sizeof(path), "%s/file", dir);
	fd = glfs_creat(fs, path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd == NULL) {
		printf("SETGID FAIL creat %s %s\n", path, errname(errno));
		return 1;
	}
	glfs_close(fd);
	if (setgid_stat(fs, "file", path, gid, false))
		return 1;
	snprintf(path, sizeof(path), "%s/sub", dir);
	if (glfs_mkdir(fs, path, 0775) < 0) {
		printf("SETGID FAIL mkdir %s %s\n", path, errname(errno));
		return 1;
	}
	if (setgid_stat(fs, "subdir", path, gid, true))
		return 1;
	printf("SETGID ok\n");
	return 0;
}

static void usage(void) __attribute__((noreturn));
static void usage(void)
{
	fprintf(stderr, "usage: gfclient -s HOST[,HOST...] -v VOLUME [-l LOG] [-L LEVEL]"
		" [-d DIR] [-p PREFIX] [-g GRACE_S]\n"
		"                write N | check [ACKFILE...] | loop SECONDS [INTERVAL_MS] | xattr PATH NAME\n"
		"                | setgid DIR GID\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *servers = NULL, *vol = NULL, *log = "/dev/stderr";
	const char *dir = "/gfclient", *prefix = "f";
	long grace_s = 15;
	int level = 4, opt, rc = 2;
	char *list, *host, *save = NULL;
	struct sigaction sa;
	glfs_t *fs;
	double t0;

	while ((opt = getopt(argc, argv, "s:v:l:L:d:p:g:")) != -1) {
		switch (opt) {
		case 's': servers = optarg; break;
		case 'v': vol = optarg; break;
		case 'l': log = optarg; break;
		case 'L': level = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 'p': prefix = optarg; break;
		case 'g': grace_s = atol(optarg); check_grace_ms = grace_s * 1000; break;
		default: usage();
		}
	}
	if (!servers || !vol || optind >= argc)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	fs = glfs_new(vol);
	if (!fs) {
		perror("glfs_new");
		return 2;
	}
	list = strdup(servers);
	if (!list)
		return 2;
	for (host = strtok_r(list, ",", &save); host; host = strtok_r(NULL, ",", &save)) {
		if (glfs_set_volfile_server(fs, "tcp", host, 24007) < 0) {
			perror("glfs_set_volfile_server");
			return 2;
		}
	}
	free(list);
	glfs_set_logging(fs, log, level);
	t0 = now_s();
	if (glfs_init(fs) < 0) {
		fprintf(stderr, "gfclient: glfs_init(%s): %s\n", vol, strerror(errno));
		return 2;
	}
	fprintf(stderr, "gfclient: glfs_init took %.0f ms\n", (now_s() - t0) * 1000);

	if (!strcmp(argv[optind], "write") && optind + 1 < argc)
		rc = mode_write(fs, dir, prefix, atol(argv[optind + 1]));
	else if (!strcmp(argv[optind], "check"))
		rc = mode_check(fs, argc - optind - 1, argv + optind + 1);
	else if (!strcmp(argv[optind], "xattr") && optind + 2 < argc)
		rc = mode_xattr(fs, argv[optind + 1], argv[optind + 2]);
	else if (!strcmp(argv[optind], "setgid") && optind + 2 < argc)
		rc = mode_setgid(fs, argv[optind + 1], (gid_t)atol(argv[optind + 2]));
	else if (!strcmp(argv[optind], "loop") && optind + 1 < argc)
		rc = mode_loop(fs, dir, prefix, atol(argv[optind + 1]),
			       optind + 2 < argc ? atol(argv[optind + 2]) : 200, grace_s * 1000);
	else
		usage();
	/* glfs_fini can hang with dead bricks; the process exits anyway */
	fflush(stdout);
	_exit(rc);
}
