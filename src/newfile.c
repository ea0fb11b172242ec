/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "newfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define TEMP_TRIES 100

/* NAME.tmp-XXXXXX, six letters or digits drawn at random; NULL when none can be drawn. */
static char *temp_name(const char *name)
{
	static const char chars[] =
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		return NULL;
	char *tmp = xasprintf("%s.tmp-XXXXXX", name);
	char *x = tmp + strlen(tmp) - sizeof(r);
	for (size_t i = 0; i < sizeof(r); i++)
		x[i] = chars[r[i] % (sizeof(chars) - 1)];
	return tmp;
}

/* The directory `name` is in, as a path from the same place: "." for a bare name. */
static char *dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');

	if (!slash)
		return xstrdup(".");
	return slash == name ? xstrdup("/") : xstrndup(name, (size_t)(slash - name));
}

/*
 * f->tmp drawn at random and `make` tried with it until the name is not
 * taken already: 0, or -1 with errno (f->tmp NULL).
 */
static int at_temp_name(struct pc_newfile *f, const char *name,
		int (*make)(struct pc_newfile *f, mode_t mode), mode_t mode)
{
	for (int tries = 0; tries < TEMP_TRIES; tries++) {
		if (!(f->tmp = temp_name(name)))
			return -1;
		if (make(f, mode) == 0)
			return 0;
		int err = errno;
		free(f->tmp);
		f->tmp = NULL;
		if (err != EEXIST) {
			errno = err;
			return -1;
		}
	}
	errno = EEXIST;
	return -1;
}

/* A new file at f->tmp, made by this process alone. */
static int create_at(struct pc_newfile *f, mode_t mode)
{
	f->fd = openat(f->dirfd, f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			mode);
	return f->fd < 0 ? -1 : 0;
}

/* The path of descriptor fd through /proc. */
static void proc_fd(int fd, char out[64])
{
	snprintf(out, 64, "/proc/self/fd/%d", fd);
}

/*
 * The file without a name linked as f->tmp: the descriptor itself
 * (AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH on kernels before 6.10),
 * else through /proc, as open(2) shows for O_TMPFILE.  What /proc linked
 * must be this very file: a /proc that is not the kernel's (a directory of
 * a chroot, say) could name another.
 */
static int link_at(struct pc_newfile *f, mode_t mode)
{
	char proc[64];
	struct stat a, b;

	(void)mode;
	if (linkat(f->fd, "", f->dirfd, f->tmp, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;
	proc_fd(f->fd, proc);
	if (linkat(AT_FDCWD, proc, f->dirfd, f->tmp, AT_SYMLINK_FOLLOW) < 0)
		return -1;
	if (fstat(f->fd, &a) == 0 && fstatat(f->dirfd, f->tmp, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
			a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return 0;
	unlinkat(f->dirfd, f->tmp, 0);
	errno = EXDEV;
	return -1;
}

int pc_newfile_open_named(struct pc_newfile *f, int dirfd, const char *name, mode_t mode)
{
	f->dirfd = dirfd;
	f->tmp = f->name = NULL;
	f->fd = -1;
	if (at_temp_name(f, name, create_at, mode) < 0)
		return -1;
	f->name = xstrdup(name);
	return 0;
}

int pc_newfile_open(struct pc_newfile *f, int dirfd, const char *name, mode_t mode)
{
	f->dirfd = dirfd;
	f->tmp = f->name = NULL;
	f->fd = -1;
	/*
	 * Without a name only where it can be given one for sure: /proc
	 * mounted (else an older kernel links a descriptor only for
	 * CAP_DAC_READ_SEARCH).  O_TMPFILE fails on a filesystem without it
	 * (EOPNOTSUPP) and on an old kernel (EISDIR).
	 */
	if (access("/proc/self/fd", X_OK) == 0) {
		char *dir = dir_of(name);
		f->fd = openat(dirfd, dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, mode);
		free(dir);
	}
	if (f->fd < 0)
		return pc_newfile_open_named(f, dirfd, name, mode);
	f->name = xstrdup(name);
	return 0;
}

int pc_newfile_link(struct pc_newfile *f)
{
	if (f->tmp)
		return 0;
	if (f->fd < 0) {
		errno = EBADF;
		return -1;
	}
	return at_temp_name(f, f->name, link_at, 0);
}

int pc_newfile_close(struct pc_newfile *f)
{
	int fd = f->fd;

	f->fd = -1;
	return fd < 0 ? 0 : close(fd);
}

int pc_newfile_commit(struct pc_newfile *f)
{
	if (pc_newfile_link(f) < 0)
		return -1;
	if (renameat(f->dirfd, f->tmp, f->dirfd, f->name) < 0) {
		int err = errno;
		unlinkat(f->dirfd, f->tmp, 0);
		free(f->tmp);
		f->tmp = NULL;
		errno = err;
		return -1;
	}
	free(f->tmp);
	f->tmp = NULL;
	return 0;
}

int pc_newfile_done(struct pc_newfile *f, bool keep)
{
	int err = 0;

	if (keep && pc_newfile_link(f) < 0)
		err = errno;
	if (pc_newfile_close(f) < 0 && !err)
		err = errno;
	if (keep && !err && pc_newfile_commit(f) < 0)
		err = errno;
	pc_newfile_finish(f);
	if (!keep)
		return -1;
	errno = err;
	return err ? -1 : 0;
}

void pc_newfile_finish(struct pc_newfile *f)
{
	if (f->tmp)
		unlinkat(f->dirfd, f->tmp, 0);
	pc_newfile_close(f);
	free(f->tmp);
	free(f->name);
	f->tmp = f->name = NULL;
}
