/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A test tool, loaded with LD_PRELOAD: a renameat() of a name holding
 * ".tmp-" (a new file about to be put in place) first makes the file
 * PC_SLOW_RENAME_MARK names (when it is set), then waits PC_SLOW_RENAME_MS
 * milliseconds (500 when unset), then renames.  A test sends a signal in
 * that wait, while the new file has its temporary name and is not in place.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

static void slow(const char *from)
{
	const char *mark = getenv("PC_SLOW_RENAME_MARK"), *ms = getenv("PC_SLOW_RENAME_MS");
	long v = ms ? atol(ms) : 500;
	struct timespec t = {v / 1000, v % 1000 * 1000000L};

	if (!strstr(from, ".tmp-"))
		return;
	if (mark) {
		int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
	int (*real)(int, const char *, int, const char *);

	*(void **)&real = dlsym(RTLD_NEXT, "renameat"); /* POSIX's way past -Wpedantic */
	slow(oldpath);
	return real ? real(olddirfd, oldpath, newdirfd, newpath) : -1;
}
