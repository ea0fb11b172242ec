/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A path resolved one component at a time through directory descriptors
 * (O_PATH, never letting the kernel follow a link), so that every symbolic
 * link met, in the directory part as well as at the end, is judged by the
 * caller before it is followed, and the work is bounded: at most
 * PC_WALK_MAX_LINKS links and PC_WALK_MAX_STEPS components (those of link
 * targets counted) per path.
 *
 * Ownership: the walk owns its descriptor and strings until
 * pc_walk_finish(), which accepts a walk never started.  Functions return
 * PC_WALK_OK, PC_WALK_ERRNO (errno set; ELOOP past the links), PC_WALK_LINK
 * (a link the caller refused: `link`, `link_shown` and `dir` describe it) or
 * PC_WALK_STEPS (past the components).
 */
#ifndef PC_PATHWALK_H
#define PC_PATHWALK_H

#include <stdbool.h>
#include <sys/stat.h>

#include "util.h"

#define PC_WALK_MAX_LINKS 40
#define PC_WALK_MAX_STEPS 1024

enum {
	PC_WALK_OK = 0,
	PC_WALK_ERRNO = -1,
	PC_WALK_LINK = -2,
	PC_WALK_STEPS = -3
};

/*
 * Whether a link met in directory `dir` could have been planted by another
 * user: the directory is sticky, group- or world-writable, and the link
 * belongs neither to the caller (the effective user) nor to the directory's
 * owner (the rule of the kernel's fs.protected_symlinks).
 */
bool pc_walk_link_planted(const struct stat *link, const struct stat *dir);

/* Whether a link (`link`) met in directory `dir` may be followed. */
typedef bool (*pc_walk_link_ok)(const struct stat *link, const struct stat *dir, void *arg);

struct pc_walk_dir {
	uid_t uid;
	mode_t mode;
};

struct pc_walk {
	int dirfd; /* O_PATH: the directory holding the last component */
	struct stat dir; /* that directory */
	char *name; /* the last component: "" after a trailing '/' */
	struct pc_buf shown; /* that directory as the walk reached it, for messages */
	struct pc_buf real; /* the same from '/', links and ".." resolved (absolute starts) */
	char *rest; /* what remains to walk */
	unsigned links, steps, max_steps;
	struct pc_walk_dir *dirs; /* every directory searched on the way, in order */
	size_t ndirs;
	struct stat link; /* the last link met (the refused one after PC_WALK_LINK) */
	char *link_shown; /* its path as the walk reached it */
	char *target; /* its target, as read */
};

/*
 * Starts at '/' for an absolute path, else at the working directory (from
 * '/' too when `absolute`: the working directory's own path is walked
 * first), and walks to the directory that holds the last component.
 */
int pc_walk_start(struct pc_walk *w, const char *path, bool absolute, unsigned max_steps,
		pc_walk_link_ok ok, void *arg);
/* The last component, not followed (fstatat with AT_SYMLINK_NOFOLLOW). */
int pc_walk_lstat(struct pc_walk *w, struct stat *st);
/*
 * The last component is the link `st` (from pc_walk_lstat): judged, read
 * and walked to the directory that holds its target's last component.
 */
int pc_walk_follow(struct pc_walk *w, const struct stat *st, pc_walk_link_ok ok, void *arg);
void pc_walk_finish(struct pc_walk *w);

#endif
