/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Paths walked one component at a time: see pathwalk.h. */
#include "pathwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void path_add(struct pc_buf *b, const char *comp, size_t n)
{
	if (b->len && b->data[b->len - 1] != '/')
		pc_buf_add(b, "/", 1);
	pc_buf_add(b, comp, n);
}

static void path_set(struct pc_buf *b, const char *s)
{
	b->len = 0;
	pc_buf_adds(b, s);
}

/* ".." in a path from '/': the last component removed, never '/' itself. */
static void path_up(struct pc_buf *b)
{
	char *slash = b->len ? strrchr(b->data, '/') : NULL;

	if (!slash)
		return;
	b->len = slash == b->data ? 1 : (size_t)(slash - b->data);
	b->data[b->len] = '\0';
}

static void note_dir(struct pc_walk *w)
{
	if (w->ndirs && w->dirs[w->ndirs - 1].uid == w->dir.st_uid &&
			w->dirs[w->ndirs - 1].mode == w->dir.st_mode)
		return;
	w->dirs = xreallocarray(w->dirs, w->ndirs + 1, sizeof(*w->dirs));
	w->dirs[w->ndirs++] = (struct pc_walk_dir){w->dir.st_uid, w->dir.st_mode};
}

static int set_dir(struct pc_walk *w, int fd)
{
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		errno = err;
		return PC_WALK_ERRNO;
	}
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->dirfd = fd;
	w->dir = st;
	return PC_WALK_OK;
}

static int to_root(struct pc_walk *w)
{
	path_set(&w->shown, "/");
	path_set(&w->real, "/");
	return set_dir(w, open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
}

/* Walks `w->rest` up to its last component, which becomes `w->name`. */
bool pc_walk_link_planted(const struct stat *link, const struct stat *dir)
{
	return link->st_uid != geteuid() && link->st_uid != dir->st_uid &&
	       (dir->st_mode & (S_ISVTX | S_IWGRP | S_IWOTH));
}

static int walk(struct pc_walk *w, pc_walk_link_ok ok, void *arg)
{
	char *rest = w->rest;
	int r;

	for (;;) {
		while (*rest == '/')
			rest++;
		size_t n = strcspn(rest, "/");
		if (!rest[n]) {
			/* The last component; "" after "dir/" or "/", which name directories. */
			free(w->name);
			w->name = xstrndup(rest, n);
			note_dir(w); /* searched for the last component */
			return PC_WALK_OK;
		}
		const char *after = rest + n + 1;
		if (++w->steps > w->max_steps)
			return PC_WALK_STEPS;
		char *comp = xstrndup(rest, n);
		rest = (char *)after;
		if (!strcmp(comp, ".")) {
			free(comp);
			continue;
		}
		note_dir(w);
		if (!strcmp(comp, "..")) {
			free(comp);
			r = set_dir(w, openat(w->dirfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
			if (r)
				return r;
			path_add(&w->shown, "..", 2);
			path_up(&w->real);
			continue;
		}
		int fd = openat(w->dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0) {
			int err = errno;
			if (fd >= 0)
				close(fd);
			free(comp);
			errno = err;
			return PC_WALK_ERRNO;
		}
		if (S_ISDIR(st.st_mode)) {
			r = set_dir(w, fd);
			path_add(&w->shown, comp, n);
			path_add(&w->real, comp, n);
			free(comp);
			if (r)
				return r;
			continue;
		}
		if (!S_ISLNK(st.st_mode)) {
			close(fd);
			free(comp);
			errno = ENOTDIR;
			return PC_WALK_ERRNO;
		}
		/* A link in the directory part: its target, then what followed it. */
		close(fd);
		free(w->name);
		w->name = comp;
		char *left = xstrdup(rest);
		r = pc_walk_follow(w, &st, ok, arg);
		/* pc_walk_follow replaced w->rest, which `rest` pointed into. */
		if (r) {
			free(left);
			return r;
		}
		/* pc_walk_follow walked the target to its last component: go on from it. */
		char *next = xasprintf("%s/%s", w->name, left);
		free(left);
		free(w->rest);
		w->rest = next;
		rest = w->rest;
	}
}

int pc_walk_start(struct pc_walk *w, const char *path, bool absolute, unsigned max_steps,
		pc_walk_link_ok ok, void *arg)
{
	int r;

	memset(w, 0, sizeof(*w));
	w->dirfd = -1;
	w->max_steps = max_steps < PC_WALK_MAX_STEPS ? max_steps : PC_WALK_MAX_STEPS;
	pc_buf_init(&w->shown);
	pc_buf_init(&w->real);
	if (path[0] == '/' || absolute) {
		if ((r = to_root(w)))
			return r;
		if (path[0] != '/') {
			char cwd[PATH_MAX];
			if (!getcwd(cwd, sizeof(cwd)))
				return PC_WALK_ERRNO;
			w->rest = xasprintf("%s/%s", cwd, path);
			return walk(w, ok, arg);
		}
	} else {
		if ((r = set_dir(w, open(".", O_PATH | O_DIRECTORY | O_CLOEXEC))))
			return r;
	}
	w->rest = xstrdup(path);
	return walk(w, ok, arg);
}

int pc_walk_lstat(struct pc_walk *w, struct stat *st)
{
	if (!*w->name) {
		*st = w->dir;
		return PC_WALK_OK;
	}
	return fstatat(w->dirfd, w->name, st, AT_SYMLINK_NOFOLLOW) < 0 ? PC_WALK_ERRNO : PC_WALK_OK;
}

int pc_walk_follow(struct pc_walk *w, const struct stat *st, pc_walk_link_ok ok, void *arg)
{
	struct pc_buf at;
	struct stat lst;
	char target[PATH_MAX];
	ssize_t len;

	(void)st;
	pc_buf_init(&at);
	pc_buf_adds(&at, w->shown.len ? w->shown.data : "");
	path_add(&at, w->name, strlen(w->name));
	free(w->link_shown);
	w->link_shown = at.data;
	note_dir(w);
	/* The link judged is the link read: both through one descriptor. */
	int fd = openat(w->dirfd, w->name, O_PATH | O_NOFOLLOW | O_CLOEXEC), err = 0;
	if (fd < 0 || fstat(fd, &lst) < 0)
		err = errno;
	else if (!S_ISLNK(lst.st_mode))
		err = EAGAIN; /* replaced since the caller looked */
	if (err) {
		if (fd >= 0)
			close(fd);
		errno = err;
		return PC_WALK_ERRNO;
	}
	w->link = lst;
	if (!ok(&lst, &w->dir, arg)) {
		close(fd);
		return PC_WALK_LINK;
	}
	if (++w->links > PC_WALK_MAX_LINKS) {
		close(fd);
		errno = ELOOP;
		return PC_WALK_ERRNO;
	}
	len = readlinkat(fd, "", target, sizeof(target) - 1);
	close(fd);
	if (len < 0)
		return PC_WALK_ERRNO;
	target[len] = '\0';
	free(w->target);
	w->target = xstrdup(target);
	if (target[0] == '/') {
		int r = to_root(w);
		if (r)
			return r;
	}
	free(w->rest);
	w->rest = xstrdup(target);
	return walk(w, ok, arg);
}

void pc_walk_finish(struct pc_walk *w)
{
	if (w->dirfd >= 0)
		close(w->dirfd);
	w->dirfd = -1;
	pc_buf_finish(&w->shown);
	pc_buf_finish(&w->real);
	free(w->name);
	free(w->rest);
	free(w->dirs);
	free(w->link_shown);
	free(w->target);
	w->name = w->rest = w->link_shown = w->target = NULL;
	w->dirs = NULL;
	w->ndirs = 0;
}
