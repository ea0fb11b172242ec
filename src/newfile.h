/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A new file that replaces a name all at once or not at all, and that a
 * process killed while writing it does not leave behind.  Where the
 * filesystem can, the file is made without a name (O_TMPFILE) and given one
 * only when it is whole, just before it is renamed over the name it
 * replaces; elsewhere it has a temporary name next to that name from the
 * start (NAME.tmp-XXXXXX, made with O_EXCL).
 */
#ifndef PC_NEWFILE_H
#define PC_NEWFILE_H

#include <stdbool.h>
#include <sys/types.h>

struct pc_newfile {
	int fd; /* open for writing; -1 once closed */
	int dirfd; /* the directory the names are in (AT_FDCWD or the caller's: not owned) */
	char *name; /* the name it replaces, in dirfd */
	char *tmp; /* its temporary name in dirfd, once it has one; NULL before */
};

/*
 * A new file to replace `name` (in dirfd; a path from it), of mode `mode`
 * less the umask, as open() makes it.  0, or -1 with errno (nothing made).
 */
int pc_newfile_open(struct pc_newfile *f, int dirfd, const char *name, mode_t mode);

/* As pc_newfile_open(), with a temporary name from the start (what it falls back to). */
int pc_newfile_open_named(struct pc_newfile *f, int dirfd, const char *name, mode_t mode);

/*
 * Its temporary name given (linked in), if it has none yet: from here it
 * outlives the process until it is renamed or removed.  0, or -1 with errno.
 */
int pc_newfile_link(struct pc_newfile *f);

/* Its descriptor closed: 0, or -1 with close()'s errno (a write that failed late). */
int pc_newfile_close(struct pc_newfile *f);

/* Named if need be, then renamed over its name: 0, or -1 with errno (then removed). */
int pc_newfile_commit(struct pc_newfile *f);

/* Its temporary name removed if it still has one, its descriptor closed, all freed. */
void pc_newfile_finish(struct pc_newfile *f);

/*
 * With `keep`, named, closed and renamed over its name; then finished (without
 * `keep`, or when one of those fails, nothing is left of it).  0, or -1 with
 * errno; always -1 without `keep`.
 */
int pc_newfile_done(struct pc_newfile *f, bool keep);

#endif
