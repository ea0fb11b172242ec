/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every module: allocation that ends the process on
 * out-of-memory, a growable byte buffer, bounded file reading, ASCII case
 * folding and UTF-8 checks.  Nothing here prints except that end.
 */
#ifndef PC_UTIL_H
#define PC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define PC_PRINTF(f, a) __attribute__((format(printf, f, a), nonnull(f)))
#define PC_NORETURN __attribute__((noreturn))
#else
#define PC_PRINTF(f, a)
#define PC_NORETURN
#endif

/* The exit status after running out of memory: PC_EXIT_ENV (src/cli/cli.h). */
#define PC_OOM_EXIT 3

/*
 * Says on standard error that `size` bytes could not be had and that no
 * ruleset was changed, and ends the process with PC_OOM_EXIT.
 */
PC_NORETURN void pc_oom_size(size_t size);
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
/*
 * Room for one more in an array of n grown only by this, one element at a
 * time: the capacity doubles when n reaches a power of two, so that an
 * array of many is not copied once per element (realloc() moves a block it
 * cannot extend in place, and under ASan it always does).
 */
static inline void *pc_grow(void *v, size_t n, size_t size)
{
	return n & (n - 1) ? v : xreallocarray(v, n ? 2 * n : 1, size);
}
/*
 * Zeroed memory straight from the kernel, for a large table of which few
 * entries are written: only the pages written are ever touched (calloc()
 * clears the whole of a block the heap had used before).  Given back with
 * pc_zpages_free() and the same size.
 */
void *pc_zpages(size_t size);
void pc_zpages_free(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PC_PRINTF(1, 2);

/* A growable byte buffer; `data` is always NUL-terminated after any append. */
struct pc_buf {
	char *data;
	size_t len;
	size_t cap;
};

void pc_buf_init(struct pc_buf *b);
void pc_buf_finish(struct pc_buf *b);
void pc_buf_reserve(struct pc_buf *b, size_t extra);
/* Appends `n` bytes and a NUL; returns the offset of the first byte. */
size_t pc_buf_add(struct pc_buf *b, const void *p, size_t n);
size_t pc_buf_adds(struct pc_buf *b, const char *s);
void pc_buf_printf(struct pc_buf *b, const char *fmt, ...) PC_PRINTF(2, 3);

/*
 * An arena: many small allocations released in one call.  Memory is
 * zeroed; alignment is 8 bytes (strings are packed, unaligned).
 * pc_arena_finish() accepts an empty arena.
 */
struct pc_arena {
	struct pc_arena_block *head;
	size_t used, size; /* of the head block */
	size_t total; /* bytes handed out, for limits */
};

void pc_arena_init(struct pc_arena *a);
void pc_arena_finish(struct pc_arena *a);
void *pc_arena_alloc(struct pc_arena *a, size_t n);
char *pc_arena_strndup(struct pc_arena *a, const char *s, size_t n);

/*
 * Reads a whole regular file of at most `max` bytes into `out` (which is
 * initialised here and NUL-terminated).  Refuses directories, FIFOs and
 * devices without blocking.  Returns 0, or -1 with errno set (EFBIG when the
 * file is larger than `max`, EINVAL when it is not a regular file).
 */
int pc_read_file(const char *path, size_t max, struct pc_buf *out);
/*
 * The same, but a symbolic link as the last component is not followed
 * (ELOOP): for files whose contents are printed, which a link could point
 * anywhere else.
 */
int pc_read_file_nofollow(const char *path, size_t max, struct pc_buf *out);
/* Reads a stream (standard input) to its end, at most `max` bytes (else EFBIG). */
int pc_read_stream(FILE *f, size_t max, struct pc_buf *out);
/* The same, appending to `out` (left as it was on failure). */
int pc_read_file_append(const char *path, size_t max, struct pc_buf *out);

static inline char pc_fold(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* FNV-1a over the ASCII-folded name: the hash of every name index. */
static inline uint32_t pc_name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)pc_fold(*s)) * 16777619u;
	return h;
}

/* The same of the n bytes at s (a name inside a longer text). */
static inline uint32_t pc_name_hash_n(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)pc_fold(s[i])) * 16777619u;
	return h;
}

/* ASCII case-insensitive comparison, independent of the locale. */
int pc_strcasecmp(const char *a, const char *b);
bool pc_streq_fold(const char *a, const char *b);
bool pc_startswith_fold(const char *s, const char *prefix);

/*
 * Returns the length of the valid UTF-8 sequence starting at `s` (at most
 * `n` bytes available), or 0 when the bytes there are not valid UTF-8
 * (overlong forms, surrogates and code points above U+10FFFF included).
 */
size_t pc_utf8_seq(const unsigned char *s, size_t n);

/*
 * The next character of `s` for text that lands in a generated ruleset (a
 * comment, a header line): returns its length in bytes (at least 1) and
 * sets *unsafe when it must be replaced: invalid UTF-8, a C0 or C1 control,
 * DEL, a line or paragraph separator, a bidirectional or zero-width control.
 */
size_t pc_text_char(const unsigned char *s, size_t n, bool *unsafe);

/*
 * Gives the whole pages inside [p, p + len) back to the system (their first
 * and last, shared with what lies around them, stay): they read as zeros
 * after.  For memory of one owner that is read no more before it is freed.
 */
void pc_pages_release(const void *p, size_t len);

/*
 * For memory at p given back in order as it is read: once [p + *done,
 * p + upto) is at least `step` bytes, its whole units of `align` bytes (a
 * page, or PC_HUGE_PAGE for an array of huge pages: giving back part of one
 * frees nothing until the kernel splits it) are given back, and *done moves
 * to the end of the last.
 */
void pc_pages_release_upto(const void *p, size_t *done, size_t upto, size_t step, size_t align);

/*
 * What is read no more is given back in steps of at least this many bytes,
 * and a smaller rest is kept: each madvise() is a TLB flush, an interrupt to
 * every other CPU the process ran on (0.1-0.2 ms in a virtual machine).  In
 * steps of 96 KiB, apply of 200 000 hosts spent 15-30 ms in 100-150 of them;
 * a step adds at most its size to the peak.
 */
#define PC_RELEASE_STEP (512u << 10)

/*
 * Makes the whole pages inside [p, p + len) present and writable in one
 * call (MADV_POPULATE_WRITE), as a write to each would one fault at a time;
 * nothing happens on a kernel without it.  For a large array about to be
 * written in order: a fault a page cost 5-20 us here, in a virtual machine.
 */
void pc_pages_populate(void *p, size_t len);

/*
 * Asks for huge pages (MADV_HUGEPAGE) for the whole PC_HUGE_PAGE ranges inside
 * [p, p + len): a page first written costs a fault, and in a virtual machine
 * as much again for the host to map it (10-19 us here), so one for 2 MiB
 * instead of one for 4 KiB.  For arrays of PC_HUGE_MIN bytes and more, where
 * a last huge page partly used is small beside the whole; such an array is
 * given back in whole huge pages (pc_pages_release_upto()).
 */
void pc_pages_huge(void *p, size_t len);
#define PC_HUGE_PAGE ((size_t)2 << 20)
#define PC_HUGE_MIN ((size_t)8 << 20)

/*
 * An array written in order from its start makes its pages present a step of
 * this many bytes at a time (pc_pages_ahead()): its peak grows by no more.
 */
#define PC_POPULATE_STEP (128u << 10)

/*
 * For an array of `cap` bytes at `base`, written in order, whose written
 * part grows from `before` to `after` bytes: when that crosses into a new
 * step of PC_POPULATE_STEP, the step's pages are made present at once
 * (pc_pages_populate()).  The first step is left to fault, as a small
 * array's pages are.
 */
static inline void pc_pages_ahead(void *base, size_t before, size_t after, size_t cap)
{
	size_t step = after / PC_POPULATE_STEP * PC_POPULATE_STEP;

	if (step > before && step < cap)
		pc_pages_populate((char *)base + step,
				(cap - step < PC_POPULATE_STEP ? cap - step : PC_POPULATE_STEP));
}

/* Optimal string alignment distance, stopping early above `limit`. */
unsigned pc_edit_distance(const char *a, const char *b, unsigned limit);

#endif
