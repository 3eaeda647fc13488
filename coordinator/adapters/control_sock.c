/*
 * Control socket: path takeover and peer groups.
 *
 * Credentials.  SO_PEERCRED gives the uid, gid and pid a peer had when it
 * connected.  Supplementary groups (is the peer in the admin group?) come
 * from SO_PEERGROUPS (Linux 4.13), captured at the same moment, so a
 * process that connects and then drops groups or exits cannot lend its
 * socket more than it had.  Older kernels fall back to the "Groups:" line
 * of /proc/PID/status, read once into a bounded buffer.
 */
#include "adapters/control_sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <qb/qbdefs.h>
#include <qb/qblog.h>

#define CONTROL_SOCK_BACKLOG 64
#define CONTROL_SOCK_STATUS_MAX (64 * 1024) /* of /proc/PID/status read */

/* The fallback for kernels without SO_PEERGROUPS: is 'gid' on the
 * "Groups:" line of /proc/'pid'/status? */
static bool sock_peer_in_group_proc(pid_t pid, gid_t gid)
{
	char path[64], *buf, *line, *p, *end;
	ssize_t n;
	size_t len = 0, size = CONTROL_SOCK_STATUS_MAX;
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	buf = malloc(size + 1);
	if (buf == NULL) {
		close(fd);
		return false;
	}
	while (len < size) {
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	line = strstr(buf, "\nGroups:");
	/* A line cut by the bound would name only some groups: fail closed
	 * by reading only up to its newline, which must be there. */
	if (line != NULL && strchr(line + 1, '\n') != NULL) {
		p = line + strlen("\nGroups:");
		for (;;) {
			unsigned long g;

			while (*p == ' ' || *p == '\t')
				p++;
			if (*p < '0' || *p > '9')
				break;
			errno = 0;
			g = strtoul(p, &end, 10);
			if (errno != 0 || end == p)
				break;
			if ((gid_t)g == gid && g == (unsigned long)(gid_t)g) {
				found = true;
				break;
			}
			p = end;
		}
	}
	free(buf);
	return found;
}

bool control_sock_peer_in_group(int fd, pid_t pid, gid_t gid)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof(small);
	bool found = false;
	size_t i;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
		if (errno == ERANGE && len <= 65536 * sizeof(gid_t)) {
			groups = malloc(len);
			if (groups == NULL)
				return false;
			if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
				free(groups);
				return false;
			}
		} else if (errno == ENOPROTOOPT) {
			return sock_peer_in_group_proc(pid, gid);
		} else {
			return false;
		}
	}
	for (i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == gid)
			found = true;
	if (groups != small)
		free(groups);
	return found;
}

/* Make sure no other daemon is serving 'path' before taking it over: a
 * connect that is accepted (or queued: EAGAIN, its backlog is full) means
 * someone is, a refused one means the socket is left over from a daemon
 * that died.  Only a socket is ever removed. */
static int sock_claim_path(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		qb_log(LOG_ERR, "control: %s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	if (rc == 0 || errno == EAGAIN || errno == EINPROGRESS) {
		close(fd);
		qb_log(LOG_ERR, "control: %s is in use by another daemon", sa->sun_path);
		return -EADDRINUSE;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED)
		return -rc;
	if (unlink(sa->sun_path) != 0 && errno != ENOENT)
		return -errno;
	qb_log(LOG_INFO, "control: removed stale socket %s", sa->sun_path);
	return 0;
}

/* Bind, set mode and group, then listen: until listen() a connect is
 * refused, so the socket is never reachable with the wrong permissions. */
int control_sock_listen(const char *path, gid_t group, struct stat *st)
{
	struct sockaddr_un sa;
	size_t len = strlen(path);
	int fd, rc;

	if (len == 0 || len >= sizeof(sa.sun_path))
		return -EINVAL;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	rc = sock_claim_path(&sa);
	if (rc != 0)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		rc = -errno;
		goto out_close;
	}
	if (chmod(path, 0660) != 0 ||
	    (group != (gid_t)-1 &&
	     fchownat(AT_FDCWD, path, (uid_t)-1, group, AT_SYMLINK_NOFOLLOW) != 0) ||
	    lstat(path, st) != 0) {
		rc = -errno;
		goto out_unlink;
	}
	if (listen(fd, CONTROL_SOCK_BACKLOG) != 0) {
		rc = -errno;
		goto out_unlink;
	}
	return fd;

out_unlink:
	unlink(path);
out_close:
	close(fd);
	return rc;
}

void control_sock_check_reach(const char *path, gid_t group)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)], *slash;
	struct stat st;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return;
	/* Walk up from the socket's directory.  Root owns these in any sane
	 * setup, so the group's way in is the group or the other bits. */
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
		if (stat(dir, &st) != 0)
			return;
		if (!(st.st_mode & S_IXOTH) && !(st.st_gid == group && (st.st_mode & S_IXGRP))) {
			qb_log(LOG_WARNING,
			       "control: group %u cannot reach %s: %s is mode %04o uid %u gid %u;"
			       " let it search the directory (chmod o+x, or chgrp it to that group)",
			       (unsigned)group, path, dir, (unsigned)(st.st_mode & 07777),
			       (unsigned)st.st_uid, (unsigned)st.st_gid);
			return;
		}
		if (slash == dir)
			return;
	}
}

void control_sock_unlink(const char *path, const struct stat *st)
{
	struct stat now;

	if (lstat(path, &now) == 0 && now.st_dev == st->st_dev && now.st_ino == st->st_ino)
		unlink(path);
}
