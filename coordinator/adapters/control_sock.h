/*
 * The control socket's dealings with the system that are not loop work:
 * taking over the socket path safely and reading a peer's groups.  Split
 * from control.c so that the server's file is about clients only.
 */
#ifndef CHORUS_CONTROL_SOCK_H
#define CHORUS_CONTROL_SOCK_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Listen on 'path' (non-blocking, close-on-exec, mode 0660, group 'group'
 * unless (gid_t)-1).  A stale socket left by a dead daemon is replaced; a
 * live one is not (-EADDRINUSE), nor is anything but a socket (-EEXIST).
 * Returns the fd, with the socket file's identity in '*st', or -errno. */
int control_sock_listen(const char *path, gid_t group, struct stat *st);

/* Warn (once, in the log) if members of 'group' cannot reach 'path':
 * every directory above it must let them search it.  A monitoring group
 * that cannot get through /run/chorus is otherwise a silent
 * "permission denied" on every host. */
void control_sock_check_reach(const char *path, gid_t group);

/* Remove 'path' if it is still the socket described by 'st'. */
void control_sock_unlink(const char *path, const struct stat *st);

/* True if 'gid' is one of the supplementary groups the peer of 'fd'
 * (process 'pid') had when it connected.  Fails closed. */
bool control_sock_peer_in_group(int fd, pid_t pid, gid_t gid);

#endif
